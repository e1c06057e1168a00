import Crypto from 'node:crypto';

import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';
import type { Server, ServerInjectResponse } from '@hapi/hapi';

import { mintToken } from '../../src/auth/tokens';
import type { DatabaseConfig } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/connection';
import { pgliteExtensions } from '../../src/data/embedded-template';
import { silentKnexLogger } from '../../src/logger';
import { createServer } from '../../src/server';
import { testConfig } from '../helpers/api';
import { contractViolations, throwOnViolations, watchResponses } from '../helpers/contract';
import { createScratchDatabase, testDatabaseConfig } from '../helpers/database';
import type { FaultProxy } from '../helpers/fault-proxy';
import { startFaultProxy } from '../helpers/fault-proxy';
import { waitFor } from '../helpers/wait';


/** A database server to put the proxy in front of: this run's PostgreSQL, or an embedded one served on TCP. */
interface Target {
    /** Straight to the database, for checks that must not go through the faults. */
    direct: Database;
    url: string;
    /** Ends the service's sessions from the database's side, as a fast shutdown of PostgreSQL does. */
    terminateSessions(): Promise<void>;
    stop(): Promise<void>;
}


interface Service {
    server: Server;
    proxy: FaultProxy;
    config: Extract<DatabaseConfig, { kind: 'postgres' }>;
    request(method: string, url: string, payload?: object): Promise<ServerInjectResponse & { elapsedMs: number }>;
}


const test = anyTest.serial as TestFn<{ target: Target }>;


const internals = {
    timeouts: { timeoutMs: 500, queryTimeoutMs: 1000 },
    // What the clock may add to a timeout on a loaded machine before an answer is late.
    slackMs: 1500,

    async target(): Promise<Target> {

        const base = await testDatabaseConfig();
        if (base.kind === 'postgres') {
            const scratch = await createScratchDatabase(base.url);
            const direct = await createDatabase({ ...base, url: scratch.url }, { log: silentKnexLogger() });
            await direct.knex.migrate.latest();
            const database = new URL(scratch.url).pathname.slice(1);
            return {
                direct,
                url: scratch.url,
                async terminateSessions() {

                    // Each waits (up to 5 s) until the session has ended, not only until it was told to.
                    await direct.knex.raw('select pg_terminate_backend(pid, 5000) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [database]);
                },
                async stop() {

                    await direct.destroy();
                    await scratch.drop();
                }
            };
        }

        // PGlite is PostgreSQL too: served on TCP, it goes behind the proxy like any server.
        const pglite = await PGlite.create({ extensions: pgliteExtensions });
        let socket = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 32 });
        await socket.start();
        const port = Number(socket.getServerConn().split(':').pop());
        const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
        const direct = await createDatabase({ kind: 'postgres', url, poolMax: 2, timeoutMs: 5000, queryTimeoutMs: 0 }, { log: silentKnexLogger() });
        await direct.knex.migrate.latest();
        return {
            direct,
            url,
            async terminateSessions() {

                // Every connection ends, as when a server stops; the same port answers again at once.
                await socket.stop();
                socket = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port, maxConnections: 32 });
                await socket.start();
            },
            async stop() {

                await direct.destroy();
                await socket.stop();
                await pglite.close();
            }
        };
    },

    async service(t: ExecutionContext<{ target: Target }>): Promise<Service> {

        const proxy = await startFaultProxy(t.context.target.url);
        const database = { kind: 'postgres' as const, url: proxy.url, poolMax: 4, ...internals.timeouts };
        const config = { ...testConfig(), database };
        const db = await createDatabase(database, { log: silentKnexLogger() });
        const server = await createServer({ config, db });
        const violations = watchResponses(server);
        await server.initialize();
        t.teardown(async () => {

            await server.stop();
            await db.destroy();
            await proxy.close();
            throwOnViolations(violations);
        });

        const token = mintToken(config.auth, { userId: 'fault-user', ttlSec: 600 }).token;
        return {
            server,
            proxy,
            config: database,
            async request(method, url, payload) {

                const started = performance.now();
                const res = await server.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
                t.deepEqual(contractViolations(method, url, res), [], `${method} ${url}: ${res.payload}`);
                return Object.assign(res, { elapsedMs: performance.now() - started });
            }
        };
    },

    /** The connections the proxy still has, once a closed one has had a moment to end there too. */
    async connectionsLeft(service: Service): Promise<number> {

        // The pool closes it as it gives up; the proxy sees the socket end a moment later.
        await waitFor('the proxy to see the connection end', () => service.proxy.connections() === 0, { withinMs: 1000 }).catch(() => undefined);
        return service.proxy.connections();
    },

    async storedIds(target: Target): Promise<Set<string>> {

        const result = await target.direct.knex.raw('select id from tasks where user_id = ?', ['fault-user']);
        return new Set(result.rows.map((row: { id: string }) => row.id));
    },

    /** Every route that reaches the database, with a task that exists. */
    routes(id: string): [string, string, object?][] {

        return [
            ['GET', '/api/tasks'],
            ['POST', '/api/tasks', { title: 'During the fault' }],
            ['GET', `/api/tasks/${id}`],
            ['PUT', `/api/tasks/${id}`, { title: 'Replaced during the fault' }],
            ['PATCH', `/api/tasks/${id}`, { priority: 'low' }],
            ['PATCH', `/api/tasks/${id}/complete`],
            ['DELETE', `/api/tasks/${Crypto.randomUUID()}`]
        ];
    }
};


test.before(async (t) => {

    t.context = { target: await internals.target() };
});

test.after.always(async (t) => {

    await t.context.target?.stop();
});


test('the database gone: 503 within DB_TIMEOUT_MS on every route and /health, then served again with no restart', async (t) => {

    const service = await internals.service(t);
    const task = await service.request('POST', '/api/tasks', { title: 'Before the fault' });
    t.is(task.statusCode, 201);
    const id = (task.result as { id: string }).id;

    service.proxy.cut();
    for (const [method, url, payload] of [...internals.routes(id), ['GET', '/health'] as [string, string]]) {
        const res = await service.request(method, url, payload);
        t.is(res.statusCode, 503, `${method} ${url}`);
        t.true(res.elapsedMs < service.config.timeoutMs + internals.slackMs, `${method} ${url} took ${Math.round(res.elapsedMs)} ms`);
    }

    const health = await service.request('GET', '/health');
    t.like(health.result, { status: 'unavailable', database: 'unreachable' });

    service.proxy.restore();
    t.is((await service.request('GET', '/health')).statusCode, 200);
    t.is((await service.request('GET', `/api/tasks/${id}`)).statusCode, 200);
    t.is((await service.request('POST', '/api/tasks', { title: 'After the fault' })).statusCode, 201);
});

test('a stalled database: a hung statement is a 503 after DB_QUERY_TIMEOUT_MS, and service resumes when it moves again', async (t) => {

    const service = await internals.service(t);
    const task = await service.request('POST', '/api/tasks', { title: 'Before the stall' });
    const id = (task.result as { id: string }).id;

    service.proxy.stall();
    const limitMs = service.config.timeoutMs + service.config.queryTimeoutMs + internals.slackMs;
    const answers = await Promise.all([...internals.routes(id), ['GET', '/health'] as [string, string]]
        .map(([method, url, payload]) => service.request(method, url, payload)));

    for (const res of answers) {
        t.is(res.statusCode, 503, `${res.request.method} ${res.request.url.pathname}`);
        t.true(res.elapsedMs < limitMs, `${res.request.method} ${res.request.url.pathname} took ${Math.round(res.elapsedMs)} ms`);
    }

    service.proxy.restore();
    t.is((await service.request('GET', '/health')).statusCode, 200);
    t.is((await service.request('GET', `/api/tasks/${id}`)).statusCode, 200);
    const after = await service.request('POST', '/api/tasks', { title: 'After the stall' });
    t.is(after.statusCode, 201);
    t.true((await internals.storedIds(t.context.target)).has((after.result as { id: string }).id));
});

test('a connection left waiting is closed, never handed out again: by the health probe and by a statement', async (t) => {

    const service = await internals.service(t);
    const closed = () => internals.connectionsLeft(service);

    t.is((await service.request('GET', '/health')).statusCode, 200);
    t.is(service.proxy.connections(), 1, 'the probe opened one connection, kept for the next request');

    service.proxy.stall();
    t.is((await service.request('GET', '/health')).statusCode, 503);
    t.is(await closed(), 0, 'the probe\'s connection, still waiting for its answer, was closed');

    service.proxy.restore();
    t.is((await service.request('GET', '/api/tasks')).statusCode, 200);
    t.is(service.proxy.connections(), 1);

    service.proxy.stall();
    t.is((await service.request('GET', '/api/tasks')).statusCode, 503);
    t.is(await closed(), 0, 'the statement\'s connection, still waiting for its answer, was closed');

    service.proxy.restore();
    t.is((await service.request('GET', '/health')).statusCode, 200);
});

test('a transaction\'s statement left waiting is a 503 after DB_QUERY_TIMEOUT_MS, and its connection is closed, not rolled back and handed out', async (t) => {

    const service = await internals.service(t);
    t.is((await service.request('GET', '/api/tasks')).statusCode, 200);
    t.is(service.proxy.connections(), 1);

    // A delete takes a transaction (the user's row locked, then the task trashed): its begin is what hangs.
    service.proxy.stall();
    const res = await service.request('DELETE', `/api/tasks/${Crypto.randomUUID()}`);
    t.is(res.statusCode, 503);
    t.true(res.elapsedMs < service.config.queryTimeoutMs + internals.slackMs, `took ${Math.round(res.elapsedMs)} ms`);
    t.is(await internals.connectionsLeft(service), 0, 'the transaction\'s connection, still waiting for its answer, was closed');

    service.proxy.restore();
    t.is((await service.request('DELETE', `/api/tasks/${Crypto.randomUUID()}`)).statusCode, 404);
    const created = await service.request('POST', '/api/tasks', { title: 'After the stalled transaction', after: null });
    t.is(created.statusCode, 201);
});

test('a session ended while a transaction holds its connection between statements fails that transaction, not the process', async (t) => {

    const db = await createDatabase({ kind: 'postgres', url: t.context.target.url, poolMax: 2, ...internals.timeouts }, { log: silentKnexLogger() });
    t.teardown(() => db.destroy());

    // Checked out by knex, with no statement running: what the server says now has no statement to go to.
    const trx = await db.knex.transaction();
    await trx.raw('select 1');
    await t.context.target.terminateSessions();

    await t.throwsAsync(trx.raw('select 1'));
    await trx.rollback().catch(() => undefined);
    t.is((await db.knex.raw('select 1 as one')).rows[0].one, 1, 'the pool hands out a live connection, not the ended one');
});

// A write whose connection is cut cannot say whether it committed, so it never answers a 2xx: the client retries (with
// an Idempotency-Key for a create). What such a retry finds stored is the idempotency tests' business.
test('a connection cut in the middle of a write is answered 503 (never a 2xx nor a 500), and the service then answers again', async (t) => {

    const service = await internals.service(t);
    const task = await service.request('POST', '/api/tasks', { title: 'Before the cut' });
    const id = (task.result as { id: string }).id;

    // A statement prepared on the connection before goes out by its name alone.
    for (const [match, method, url, payload] of [
        [/insert into tasks|tasks\.create/, 'POST', '/api/tasks', { title: 'Cut on its way' }],
        [/update tasks|tasks\.update\./, 'PATCH', `/api/tasks/${id}`, { title: 'Cut on its way' }],
        [/update tasks|tasks\.toggle/, 'PATCH', `/api/tasks/${id}/complete`],
        [/delete from tasks|tasks\.delete/, 'DELETE', `/api/tasks/${id}`]
    ] as [RegExp, string, string, object?][]) {
        const cut = service.proxy.cutAfter(match);
        const res = await service.request(method, url, payload);
        await cut;
        t.is(res.statusCode, 503, `${method} ${url}`);
    }

    t.is((await service.request('GET', '/health')).statusCode, 200);
});

test('under load, connections dying (ended by the server, cut, stalled) give 503s, never a 500, and lose no acknowledged write', async (t) => {

    const service = await internals.service(t);
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    let running = true;

    const client = async () => {

        while (running) {
            const res = await service.request('POST', '/api/tasks', { title: 'Under load' });
            statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
            if (res.statusCode === 201) {
                acknowledged.push((res.result as { id: string }).id);
            }
        }
    };

    // Until `count` more answers with this status have come back (the load is flowing, a fault has been felt).
    const more = async (what: string, status: number, count: number) => {

        const from = statuses.get(status) ?? 0;
        await waitFor(what, () => (statuses.get(status) ?? 0) >= from + count, { withinMs: 20_000 });
    };

    const clients = Array.from({ length: 20 }, client);
    for (let round = 0; round < 9; ++round) {
        await more(`writes acknowledged before fault ${round}`, 201, 5);
        if (round % 3 === 0) {
            await t.context.target.terminateSessions();
        }
        else {
            // A cut is over at once; a stall outlasts the connection and statement timeouts.
            const stall = round % 3 === 2;
            if (stall) {
                service.proxy.stall();
            }
            else {
                service.proxy.cut();
            }

            // Requests caught in a cut fail at once; in a stall, when the connection or statement timeout ends them.
            await more(`a request failed by fault ${round}`, 503, 1);
            service.proxy.restore();
        }
    }

    await more('writes acknowledged after the last fault', 201, 5);
    running = false;
    await Promise.all(clients);

    t.deepEqual([...statuses.keys()].filter((status) => status !== 201 && status !== 503), [], JSON.stringify(Object.fromEntries(statuses)));
    t.true((statuses.get(201) ?? 0) > 0 && (statuses.get(503) ?? 0) > 0, JSON.stringify(Object.fromEntries(statuses)));

    const stored = await internals.storedIds(t.context.target);
    t.deepEqual(acknowledged.filter((id) => !stored.has(id)), []);
    t.is((await service.request('POST', '/api/tasks', { title: 'After the load' })).statusCode, 201);
});
