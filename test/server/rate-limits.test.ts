import Crypto from 'node:crypto';
import Net from 'node:net';

import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';
import Redis from 'ioredis';

import { mintToken } from '../../src/auth/tokens';
import { testSecret } from '../helpers/api';
import type { ServerDatabase, ServerProcess } from '../helpers/process';
import { createServerDatabase, send, startServer } from '../helpers/process';
import { waitFor } from '../helpers/wait';


// The budgets as a deployment shares them: across the workers of one server (the primary keeps them), and across
// server processes through Redis. Real processes, real connections, a real Redis.
const test = anyTest.serial as TestFn<{ database: ServerDatabase }>;

test.before(async (t) => {

    t.context.database = await createServerDatabase();
});

test.after.always(async (t) => {

    await t.context.database?.drop();
});


const internals = {
    /** The Redis the tests may use: TEST_REDIS_URL (CI starts one of its own), else the local default. */
    redisUrl: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',

    auth(userId: string): Record<string, string> {

        const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId, ttlSec: 600 }).token;
        return { authorization: `Bearer ${token}` };
    },

    async start(t: ExecutionContext<{ database: ServerDatabase }>, env: Record<string, string>): Promise<ServerProcess> {

        const server = await startServer({ BETTER_AUTH_SECRET: testSecret, ...t.context.database.env, ...env });
        t.teardown(() => server.destroy());
        return server;
    },

    /** A request on a connection of its own, so that node:cluster hands it to the next worker. */
    async status(server: ServerProcess, headers: Record<string, string>): Promise<number> {

        return (await send(server.uri, 'GET', '/api/tasks?limit=1', headers, undefined, false)).status;
    },

    count(statuses: number[]): Record<number, number> {

        const counts: Record<number, number> = {};
        for (const status of statuses) {
            counts[status] = (counts[status] ?? 0) + 1;
        }

        return counts;
    },

    async reachable(url: string): Promise<boolean> {

        const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000 });
        redis.on('error', () => undefined);
        try {
            await redis.connect();
            return await redis.ping() === 'PONG';
        }
        catch {
            return false;
        }
        finally {
            redis.disconnect();
        }
    },

    /** A port nothing listens on. */
    async closedPort(): Promise<number> {

        const server = Net.createServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as Net.AddressInfo;
        await new Promise((resolve) => server.close(resolve));
        return port;
    }
};


test('WEB_CONCURRENCY=2: a user has one budget whichever worker answers', async (t) => {

    const server = await internals.start(t, { WEB_CONCURRENCY: '2', RATE_LIMIT_PER_MIN: '10' });
    const user = internals.auth(`cluster-${Crypto.randomUUID()}`);

    const statuses: number[] = [];
    for (let i = 0; i < 16; ++i) {
        statuses.push(await internals.status(server, user));
    }

    t.deepEqual(internals.count(statuses), { 200: 10, 429: 6 });
    t.deepEqual(statuses.slice(0, 10), Array(10).fill(200), 'the first ten, and only they, were allowed');

    // Both workers answered, and so counted, some of them (their log lines are written a moment later).
    const answeredBy = () => new Set(server.entries().filter((entry) => String(entry.msg).startsWith('[response] get /api/tasks')).map((entry) => entry.pid));
    await waitFor('both workers\' log lines', () => answeredBy().size >= 2, { withinMs: 5000 }).catch(() => undefined);

    t.is(answeredBy().size, 2);

    // Another user is untouched.
    t.is(await internals.status(server, internals.auth(`cluster-${Crypto.randomUUID()}`)), 200);
});

test('WEB_CONCURRENCY=2: failed authentications from one address are counted across the workers', async (t) => {

    const server = await internals.start(t, { WEB_CONCURRENCY: '2', AUTH_FAILURES_PER_MIN: '4', TRUST_PROXY: '1' });
    const forged = { authorization: 'Bearer not-a-token', 'x-forwarded-for': `198.51.100.${Crypto.randomInt(1, 255)}` };

    const statuses: number[] = [];
    for (let i = 0; i < 8; ++i) {
        statuses.push(await internals.status(server, forged));
    }

    t.deepEqual(statuses, [401, 401, 401, 401, 429, 429, 429, 429]);
});

test('RATE_LIMIT_REDIS_URL: two server processes share one budget per user, and one per address for failures', async (t) => {

    if (!await internals.reachable(internals.redisUrl)) {
        t.fail(`no Redis at ${internals.redisUrl}: start one (redis-server), or set TEST_REDIS_URL`);
        return;
    }

    // Replicas share their PostgreSQL; an embedded database has one owner, so there each has one of its own.
    const env = { RATE_LIMIT_REDIS_URL: internals.redisUrl, RATE_LIMIT_PER_MIN: '10', AUTH_FAILURES_PER_MIN: '3', TRUST_PROXY: '1' };
    const own: Record<string, string> = t.context.database.env.DATABASE_URL.startsWith('pglite://') ? { DATABASE_URL: 'pglite://memory' } : {};
    const servers = [await internals.start(t, { ...env, ...own }), await internals.start(t, { ...env, ...own })];
    const user = internals.auth(`replica-${Crypto.randomUUID()}`);

    const statuses: number[] = [];
    for (let i = 0; i < 16; ++i) {
        statuses.push(await internals.status(servers[i % 2], user));
    }

    t.deepEqual(statuses, [...Array(10).fill(200), ...Array(6).fill(429)]);

    const forged = { authorization: 'Bearer not-a-token', 'x-forwarded-for': `2001:db8:${Crypto.randomInt(1, 0xffff).toString(16)}::1` };
    const failures: number[] = [];
    for (let i = 0; i < 5; ++i) {
        failures.push(await internals.status(servers[i % 2], forged));
    }

    t.deepEqual(failures, [401, 401, 401, 429, 429]);
});

test('with Redis unreachable the service still answers, each process counting on its own, and says so once', async (t) => {

    const server = await internals.start(t, { RATE_LIMIT_REDIS_URL: `redis://127.0.0.1:${await internals.closedPort()}`, RATE_LIMIT_PER_MIN: '3' });
    const user = internals.auth(`offline-${Crypto.randomUUID()}`);

    const statuses: number[] = [];
    for (let i = 0; i < 5; ++i) {
        statuses.push(await internals.status(server, user));
    }

    t.deepEqual(statuses, [200, 200, 200, 429, 429]);

    // Log lines go out in batches (at the latest 100 ms later): every request's line is in once the fifth one is.
    const warnings = () => server.entries().filter((entry) => (entry.data as { msg?: string } | undefined)?.msg?.startsWith('Redis for the rate limits cannot be reached'));
    const responses = () => server.entries().filter((entry) => String(entry.msg).startsWith('[response] get /api/tasks'));
    await waitFor('every response\'s log line', () => responses().length >= 5, { withinMs: 5000 }).catch(() => undefined);
    t.is(warnings().length, 1, server.lines.slice(-10).join('\n'));
});
