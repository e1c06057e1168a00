// npm run bench:stream [-- --streams 1000] [--users 100] [--rate 200] [--seconds 10] [--workers 2] [--rounds 3] [--burst 3000] [--pool 10] [--stream-pool 20]
// The live stream under load, and what keeping the feed and notifying costs the writes. Three servers (npm run build,
// then dist/src/index.js with WEB_CONCURRENCY workers), each on a scratch PostgreSQL database of its own that
// differs only in how a write notifies the streams:
//   announced  the service as it is: its writes are announced after they commit (src/data/change-announcer.ts);
//   in-write   a NOTIFY from the trigger inside every write, as before that (the announcement a no-op);
//   none       no notification at all (the streams would then learn of changes only from their catch-up).
// Every write keeps the change feed (versions, the user's row in user_versions) in all three. A no-op pg_notify in
// a schema searched before pg_catalog is what silences a notification on a database; a listener on each database
// counts what it really receives.
//
// After a first burst of creates on each server:
// 1. Create throughput: rounds of `--burst` creates by 32 clients on each server in turn (the order rotating from
//    round to round), each server's workers with a pool of `--pool` connections (three servers share PostgreSQL's
//    max_connections with whatever else runs there).
// Then the announced server alone, started again with a pool of `--stream-pool`:
// 2. RSS of its processes idle, then with `--streams` streams open over `--users` users (each a median of readings
//    from /proc): memory per open stream.
// 3. `--rate` creates a second through both workers for `--seconds`: the delivery latency from each create's 2xx to
//    its event on each stream of its user (an event that came before the 2xx counts as 0).
// The load average is printed beside each phase: the machine is shared.
import ChildProcess from 'node:child_process';
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Http from 'node:http';
import Os from 'node:os';
import Path from 'node:path';
import Readline from 'node:readline';
import { parseArgs } from 'node:util';

import Pg from 'pg';

import { mintToken } from '../src/auth/tokens';
import { createDatabase } from '../src/data/connection';
import type { Database } from '../src/data/database';


type Variant = 'announced' | 'in-write' | 'none';


interface Server {
    variant: Variant;
    uri: string;
    url: string;
    child: ChildProcess.ChildProcess;
    db: Database;
    name: string;
    listener: Pg.Client;
    heard: number;
}


const internals = {
    root: Path.resolve(__dirname, '..'),
    secret: Crypto.randomBytes(32).toString('base64'),
    base: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    variants: ['announced', 'in-write', 'none'] as Variant[],
    burstClients: 32,
    opening: 20,
    // RSS is read this many times, this far apart, and the median taken: a collection in between moves one reading.
    rssSamples: 7,
    rssEveryMs: 500,

    // What makes each database the variant it is, run after its migrations.
    setup: {
        'announced': [],
        'in-write': [
            // The service's writes take their versions as any other write: the trigger notifies inside them.
            `create or replace function tasks_take_versions(owner text, count bigint) returns bigint
             language sql volatile as $$ select tasks_bump_version(owner, count) $$`,
            `create or replace function user_versions_notify() returns trigger language plpgsql as $$
             begin perform pg_catalog.pg_notify('todo_api_changes', new.user_id || ':' || new.version); return null; end $$`
        ],
        'none': []
    } as Record<Variant, string[]>,

    // Silences the unqualified pg_notify (the service's announcement, and in `none` the trigger's too).
    quiet: [
        'create schema bench_quiet',
        'create function bench_quiet.pg_notify(channel text, payload text) returns void language plpgsql as $$ begin end $$'
    ]
};


const { values } = parseArgs({
    options: {
        streams: { type: 'string', default: '1000' },
        users: { type: 'string', default: '100' },
        rate: { type: 'string', default: '200' },
        seconds: { type: 'string', default: '10' },
        workers: { type: 'string', default: '2' },
        rounds: { type: 'string', default: '3' },
        burst: { type: 'string', default: '3000' },
        pool: { type: 'string', default: '10' },
        'stream-pool': { type: 'string', default: '20' }
    }
});

const settings = {
    streams: Number(values.streams),
    users: Number(values.users),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    workers: Number(values.workers),
    rounds: Number(values.rounds),
    burst: Number(values.burst),
    // Three servers share PostgreSQL's max_connections (100 by default) with whatever else runs there.
    pool: Number(values.pool),
    streamPool: Number(values['stream-pool'])
};


const load = () => Os.loadavg().map((average) => average.toFixed(2)).join(', ');

const token = (user: string) => mintToken({ secret: Buffer.from(internals.secret), issuer: null, audience: null }, { userId: user, ttlSec: 3600 }).token;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

const rssKb = (pid: number) => {

    try {
        return Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    }
    catch {
        return 0;                                       // Gone between the listing and the reading.
    }
};

const tree = (pid: number): number[] => {

    const children = ChildProcess.spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    return [pid, ...children.flatMap(tree)];
};

/** The median over several readings of the summed RSS of the server's processes, in KiB. */
const serverRssKb = async (pid: number) => {

    const readings: number[] = [];
    for (let i = 0; i < internals.rssSamples; ++i) {
        readings.push(tree(pid).reduce((sum, one) => sum + rssKb(one), 0));
        await new Promise((resolve) => setTimeout(resolve, internals.rssEveryMs));
    }

    return median(readings);
};


/** The built server with WEB_CONCURRENCY workers on the database at `url`, started and listening. */
async function spawnServer(url: string, pool: number): Promise<{ child: ChildProcess.ChildProcess; uri: string }> {

    const child = ChildProcess.spawn(process.execPath, ['--enable-source-maps', 'dist/src/index.js'], {
        cwd: internals.root,
        detached: true,
        env: {
            PATH: process.env.PATH!, HOME: process.env.HOME ?? internals.root, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info',
            RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0', BETTER_AUTH_SECRET: internals.secret, DATABASE_URL: url,
            WEB_CONCURRENCY: String(settings.workers), SSE_MAX_STREAMS_PER_USER: String(Math.ceil(settings.streams / settings.users)), DB_POOL_MAX: String(pool)
        },
        stdio: ['ignore', 'pipe', 'inherit']
    });

    const uri = await new Promise<string>((resolve, reject) => {

        Readline.createInterface({ input: child.stdout! }).on('line', (line) => {

            if (/"level":[56]/.test(line)) {
                console.error(line);
            }

            if (line.includes('"todo-api listening"')) {
                resolve(JSON.parse(line).uri as string);
            }
        });
        child.once('exit', () => reject(new Error('the server exited before it listened')));
        setTimeout(() => reject(new Error('the server did not listen within 120 s')), 120_000).unref();
    }).catch((err: unknown) => {

        process.kill(-child.pid!, 'SIGKILL');
        throw err;
    });

    return { child, uri };
}


/** The server again on the same database, with another pool size. */
async function respawnServer(server: Server, pool: number): Promise<void> {

    process.kill(-server.child.pid!, 'SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    Object.assign(server, await spawnServer(server.url, pool));
}


async function startServer(variant: Variant, admin: Database): Promise<Server> {

    const name = `bench_stream_${variant.replace('-', '_')}_${Date.now()}`;
    await admin.knex.raw(`create database ${name}`);
    const url = new URL(internals.base);
    url.pathname = `/${name}`;
    const db = await createDatabase({ kind: 'postgres', url: url.toString(), poolMax: 2, timeoutMs: 5000, queryTimeoutMs: 0 });
    await db.knex.migrate.latest();
    for (const sql of internals.setup[variant]) {
        await db.knex.raw(sql);
    }

    if (variant !== 'announced') {
        for (const sql of internals.quiet) {
            await db.knex.raw(sql);
        }

        // Read by each new connection: the servers' pools open theirs after this.
        await db.knex.raw(`alter database ${name} set search_path = bench_quiet, public, pg_catalog`);
    }

    const listener = new Pg.Client({ connectionString: url.toString() });
    await listener.connect();
    await listener.query('listen todo_api_changes');

    const { child, uri } = await spawnServer(url.toString(), settings.pool);
    const server: Server = { variant, uri, url: url.toString(), child, db, name, listener, heard: 0 };
    listener.on('notification', () => ++server.heard);
    return server;
}


async function stopServer(server: Server, admin: Database): Promise<void> {

    process.kill(-server.child.pid!, 'SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await server.listener.end();
    await server.db.destroy();
    await admin.knex.raw(`drop database ${server.name} with (force)`);
}


async function main(): Promise<void> {

    const build = ChildProcess.spawnSync('npm', ['run', 'build', '--silent'], { cwd: internals.root, stdio: 'inherit' });
    if (build.status !== 0) {
        throw new Error('npm run build failed');
    }

    const admin = await createDatabase({ kind: 'postgres', url: internals.base, poolMax: 1, timeoutMs: 5000, queryTimeoutMs: 0 });
    const { rows: [{ server_version: postgres }] } = await admin.knex.raw('show server_version');
    console.log(`${new Date().toISOString()}: ${Os.cpus().length} cores (${Os.cpus()[0]?.model}), Node ${process.version}, PostgreSQL ${postgres}; load average ${load()}`);

    const servers: Server[] = [];
    try {
        for (const variant of internals.variants) {
            servers.push(await startServer(variant, admin));
        }

        const users = Array.from({ length: settings.users }, (_, i) => `bench-stream-${i}`);
        const agents = new Map(servers.map((server) => [server, new Http.Agent({ keepAlive: true, maxSockets: 64 })]));
        const create = (server: Server, user: string, title: string) => {

            return new Promise<number>((resolve, reject) => {

                const body = JSON.stringify({ title });
                const request = Http.request(`${server.uri}/api/tasks`, { method: 'POST', agent: agents.get(server), headers: { authorization: `Bearer ${token(user)}`, 'content-type': 'application/json' } }, (response) => {

                    let answer = '';
                    response.setEncoding('utf8');
                    response.on('data', (chunk: string) => (answer += chunk));
                    response.on('end', () => (response.statusCode === 201 ? resolve(performance.now()) : reject(new Error(`create on ${server.variant}: ${response.statusCode} ${answer}`))));
                });
                request.on('error', reject);
                request.end(body);
            });
        };

        const burst = async (server: Server, count: number) => {

            const started = performance.now();
            let next = 0;
            await Promise.all(Array.from({ length: internals.burstClients }, async () => {

                while (next < count) {
                    const i = next++;
                    await create(server, users[i % users.length], `burst ${i}`);
                }
            }));
            return count / ((performance.now() - started) / 1000);
        };

        // A first, unmeasured burst warms each server.
        for (const server of servers) {
            await burst(server, Math.min(1000, settings.burst));
        }

        // 1. Create throughput, the variants in turn.
        const throughput = new Map<Variant, number[]>(internals.variants.map((variant) => [variant, []]));
        const heard = new Map<Variant, number[]>(internals.variants.map((variant) => [variant, []]));
        const loads: string[] = [];
        for (let round = 0; round < settings.rounds; ++round) {
            loads.push(load());
            for (let i = 0; i < servers.length; ++i) {
                const server = servers[(i + round) % servers.length];
                const before = server.heard;
                throughput.get(server.variant)!.push(await burst(server, settings.burst));
                // Notifications still on their way arrive within moments.
                await new Promise((resolve) => setTimeout(resolve, 200));
                heard.get(server.variant)!.push(server.heard - before);
            }
        }

        loads.push(load());
        console.log('');
        console.log(`Create throughput: ${settings.rounds} rounds × ${settings.burst} creates per server, ${internals.burstClients} clients, WEB_CONCURRENCY=${settings.workers}, DB_POOL_MAX=${settings.pool}; load average (1, 5, 15 min) at each round's start and at the end: ${loads.join(' | ')}`);
        console.log('');
        console.log('| notification | creates/s (median) | each round | notifications received per burst | of the announced |');
        console.log('|---|---|---|---|---|');
        const announced = median(throughput.get('announced')!);
        for (const variant of internals.variants) {
            const rates = throughput.get(variant)!;
            console.log(`| ${variant} | ${median(rates).toFixed(0)} | ${rates.map((rate) => rate.toFixed(0)).join(', ')} | ${heard.get(variant)!.join(', ')} | ${(median(rates) / announced).toFixed(2)} |`);
        }

        // Only the announced server runs from here, again, with a pool for a thousand streams.
        const [live] = servers;
        for (const server of servers.splice(1)) {
            agents.get(server)!.destroy();
            await stopServer(server, admin);
        }

        agents.get(live)!.destroy();
        await respawnServer(live, settings.streamPool);
        agents.set(live, new Http.Agent({ keepAlive: true, maxSockets: 64 }));
        await burst(live, Math.min(1000, settings.burst));

        // 2. Memory: idle, then with the streams open.
        const loadIdle = load();
        const idleKb = await serverRssKb(live.child.pid!);

        const sentAt = new Map<string, number>();
        const early = new Map<string, number>();
        const latencies: number[] = [];
        let opened = 0;
        const sockets: Http.ClientRequest[] = [];
        // Opened `opening` at a time: a thousand clients that all connect in the same millisecond would wait for the
        // pools longer than their timeout (503), which is not what is measured here.
        const openStream = (i: number) => {

            return new Promise<void>((resolve, reject) => {

                const user = users[i % users.length];
                const request = Http.get(`${live.uri}/api/changes/stream`, { agent: false, headers: { authorization: `Bearer ${token(user)}` } }, (response) => {

                    if (response.statusCode !== 200) {
                        reject(new Error(`stream: ${response.statusCode}`));
                        return;
                    }

                    ++opened;
                    resolve();
                    let buffer = '';
                    response.setEncoding('utf8');
                    response.on('data', (chunk: string) => {

                        const now = performance.now();
                        buffer += chunk;
                        let at: number;
                        while ((at = buffer.indexOf('\n\n')) !== -1) {
                            const block = buffer.slice(0, at);
                            buffer = buffer.slice(at + 2);
                            const data = /^data: (.*)$/m.exec(block)?.[1];
                            const title = data ? (JSON.parse(data).task?.title as string | undefined) : undefined;
                            if (!title?.startsWith('live ')) {
                                continue;
                            }

                            const sent = sentAt.get(title);
                            if (sent === undefined) {
                                early.set(title, (early.get(title) ?? 0) + 1);
                                latencies.push(0);
                            }
                            else {
                                latencies.push(now - sent);
                            }
                        }
                    });
                });
                request.on('error', reject);
                sockets.push(request);
            });
        };

        let toOpen = 0;
        await Promise.all(Array.from({ length: internals.opening }, async () => {

            while (toOpen < settings.streams) {
                await openStream(toOpen++);
            }
        }));

        await new Promise((resolve) => setTimeout(resolve, 2000));
        const loadStreams = load();
        const streamsKb = await serverRssKb(live.child.pid!);

        // 3. The load: `rate` creates a second, round-robin over the users.
        const total = settings.rate * settings.seconds;
        const loadBefore = load();
        const started = performance.now();
        const writes: Promise<void>[] = [];
        for (let i = 0; i < total; ++i) {
            const due = started + (i * 1000) / settings.rate;
            const wait = due - performance.now();
            if (wait > 0) {
                await new Promise((resolve) => setTimeout(resolve, wait));
            }

            const title = `live ${i}`;
            writes.push(create(live, users[i % users.length], title).then((at) => {

                sentAt.set(title, at);
            }));
        }

        await Promise.all(writes);
        const achieved = total / ((performance.now() - started) / 1000);
        const streamsPerUser = settings.streams / settings.users;
        const expected = total * streamsPerUser;
        const deadline = performance.now() + 10_000;
        while (latencies.length < expected && performance.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 100));
        }

        const sorted = [...latencies].sort((a, b) => a - b);
        console.log('');
        console.log(`Streams: ${opened} open over ${settings.users} users on the announced server, WEB_CONCURRENCY=${settings.workers}, DB_POOL_MAX=${settings.streamPool}; ${total} creates at ${settings.rate}/s (achieved ${achieved.toFixed(0)}/s) through both workers`);
        console.log('');
        console.log('| measure | value | load average (1, 5, 15 min) |');
        console.log('|---|---|---|');
        console.log(`| server RSS, all processes: idle / with the streams open (median of ${internals.rssSamples} readings) | ${(idleKb / 1024).toFixed(1)} / ${(streamsKb / 1024).toFixed(1)} MiB | ${loadIdle} / ${loadStreams} |`);
        console.log(`| memory per open stream | ${((streamsKb - idleKb) / settings.streams).toFixed(1)} KiB | |`);
        console.log(`| events delivered / expected | ${latencies.length} / ${expected} | ${loadBefore} (before the load) |`);
        console.log(`| delivery latency p50 (create's 2xx to event) | ${percentile(sorted, 0.5).toFixed(1)} ms | ${load()} (after) |`);
        console.log(`| delivery latency p99 | ${percentile(sorted, 0.99).toFixed(1)} ms | |`);
        console.log(`| delivery latency max | ${sorted[sorted.length - 1].toFixed(1)} ms | |`);
        console.log(`| events before their create's 2xx (counted as 0) | ${[...early.values()].reduce((a, b) => a + b, 0)} | |`);


        for (const socket of sockets) {
            socket.destroy();
        }

        for (const agent of agents.values()) {
            agent.destroy();
        }
    }
    finally {
        for (const server of servers) {
            await stopServer(server, admin);
        }

        await admin.destroy();
    }
}


main().catch((err: unknown) => {

    console.error(err);
    process.exit(1);
});
