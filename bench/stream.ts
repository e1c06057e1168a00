// npx tsx bench/stream.ts [--streams 1000] [--users 100] [--rate 200] [--seconds 10] [--workers 2]
// The live stream under load: a server with WEB_CONCURRENCY workers on a scratch PostgreSQL database, `--streams`
// open streams spread over `--users` users, and `--rate` creates a second through both workers. It measures the
// delivery latency from a create's 2xx to its event on each stream of its user (p50, p99, max; an event that came
// before the 2xx counts as 0), the servers' memory per open stream, and create throughput with and without the
// NOTIFY trigger.
import ChildProcess from 'node:child_process';
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Http from 'node:http';
import Path from 'node:path';
import Readline from 'node:readline';
import { parseArgs } from 'node:util';

import { mintToken } from '../src/auth/tokens';
import { createDatabase } from '../src/data/connection';


const internals = {
    root: Path.resolve(__dirname, '..'),
    secret: Crypto.randomBytes(32).toString('base64'),
    base: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
};


const { values } = parseArgs({
    options: {
        streams: { type: 'string', default: '1000' },
        users: { type: 'string', default: '100' },
        rate: { type: 'string', default: '200' },
        seconds: { type: 'string', default: '10' },
        workers: { type: 'string', default: '2' },
        rounds: { type: 'string', default: '3' },
        burst: { type: 'string', default: '3000' }
    }
});

const settings = {
    streams: Number(values.streams),
    users: Number(values.users),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    workers: Number(values.workers),
    rounds: Number(values.rounds),
    burst: Number(values.burst)
};


const token = (user: string) => mintToken({ secret: Buffer.from(internals.secret), issuer: null, audience: null }, { userId: user, ttlSec: 3600 }).token;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(Fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

const tree = (pid: number): number[] => {

    const children = ChildProcess.spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    return [pid, ...children.flatMap(tree)];
};


async function main(): Promise<void> {

    // A scratch database, migrated.
    const name = `bench_stream_${Date.now()}`;
    const admin = await createDatabase({ kind: 'postgres', url: internals.base, poolMax: 1, timeoutMs: 5000, queryTimeoutMs: 0 });
    await admin.knex.raw(`create database ${name}`);
    const url = new URL(internals.base);
    url.pathname = `/${name}`;
    const db = await createDatabase({ kind: 'postgres', url: url.toString(), poolMax: 2, timeoutMs: 5000, queryTimeoutMs: 0 });
    await db.knex.migrate.latest();

    const child = ChildProcess.spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
        cwd: internals.root,
        detached: true,
        env: {
            PATH: process.env.PATH!, HOME: process.env.HOME ?? internals.root, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info',
            RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0', BETTER_AUTH_SECRET: internals.secret, DATABASE_URL: url.toString(),
            WEB_CONCURRENCY: String(settings.workers), SSE_MAX_STREAMS_PER_USER: String(Math.ceil(settings.streams / settings.users)), DB_POOL_MAX: '20'
        },
        stdio: ['ignore', 'pipe', 'inherit']
    });

    const uri = await new Promise<string>((resolve, reject) => {

        Readline.createInterface({ input: child.stdout! }).on('line', (line) => {

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

    try {
        const users = Array.from({ length: settings.users }, (_, i) => `bench-stream-${i}`);
        const keepAlive = new Http.Agent({ keepAlive: true, maxSockets: 64 });
        const create = (user: string, title: string) => new Promise<number>((resolve, reject) => {

            const body = JSON.stringify({ title });
            const request = Http.request(`${uri}/api/tasks`, { method: 'POST', agent: keepAlive, headers: { authorization: `Bearer ${token(user)}`, 'content-type': 'application/json' } }, (response) => {

                response.resume();
                response.on('end', () => (response.statusCode === 201 ? resolve(performance.now()) : reject(new Error(`create: ${response.statusCode}`))));
            });
            request.on('error', reject);
            request.end(body);
        });

        // Create throughput: with the NOTIFY trigger, then without it (same server, same database), then with again.
        const burst = async (count: number) => {

            const started = performance.now();
            let next = 0;
            await Promise.all(Array.from({ length: 32 }, async () => {

                while (next < count) {
                    const i = next++;
                    await create(users[i % users.length], `burst ${i}`);
                }
            }));
            return count / ((performance.now() - started) / 1000);
        };

        const triggers = async (on: boolean) => {

            for (const trigger of ['user_versions_notify_insert', 'user_versions_notify_update']) {
                await db.knex.raw(`alter table user_versions ${on ? 'enable' : 'disable'} trigger ${trigger}`);
            }
        };

        await burst(Math.min(1000, settings.burst));
        const throughput: { notify: number[]; none: number[] } = { notify: [], none: [] };
        for (let round = 0; round < settings.rounds; ++round) {
            throughput.notify.push(await burst(settings.burst));
            await triggers(false);
            throughput.none.push(await burst(settings.burst));
            await triggers(true);
        }

        const pids = tree(child.pid!);
        const before = pids.reduce((sum, pid) => sum + rssKb(pid), 0);

        // The streams: each counts the latency of every create of its user.
        const sentAt = new Map<string, number>();
        const early = new Map<string, number>();
        const latencies: number[] = [];
        let opened = 0;
        const sockets: Http.ClientRequest[] = [];
        await Promise.all(Array.from({ length: settings.streams }, (_, i) => new Promise<void>((resolve, reject) => {

            const user = users[i % users.length];
            const request = Http.get(`${uri}/api/changes/stream`, { agent: false, headers: { authorization: `Bearer ${token(user)}` } }, (response) => {

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
        })));

        await new Promise((resolve) => setTimeout(resolve, 2000));
        const after = pids.reduce((sum, pid) => sum + rssKb(pid), 0);

        // The load: `rate` creates a second, round-robin over the users.
        const total = settings.rate * settings.seconds;
        const started = performance.now();
        const writes: Promise<void>[] = [];
        for (let i = 0; i < total; ++i) {
            const due = started + (i * 1000) / settings.rate;
            const wait = due - performance.now();
            if (wait > 0) {
                await new Promise((resolve) => setTimeout(resolve, wait));
            }

            const title = `live ${i}`;
            writes.push(create(users[i % users.length], title).then((at) => {

                sentAt.set(title, at);
            }));
        }

        await Promise.all(writes);
        const streamsPerUser = settings.streams / settings.users;
        const expected = total * streamsPerUser;
        const deadline = performance.now() + 10_000;
        while (latencies.length < expected && performance.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 100));
        }

        const sorted = [...latencies].sort((a, b) => a - b);
        const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
        console.log(`streams open: ${opened} over ${settings.users} users, WEB_CONCURRENCY=${settings.workers}; ${total} creates at ${settings.rate}/s`);
        console.log('');
        console.log('| measure | value |');
        console.log('|---|---|');
        console.log(`| events delivered / expected | ${latencies.length} / ${expected} |`);
        console.log(`| delivery latency p50 (create's 2xx to event) | ${percentile(sorted, 0.5).toFixed(1)} ms |`);
        console.log(`| delivery latency p99 | ${percentile(sorted, 0.99).toFixed(1)} ms |`);
        console.log(`| delivery latency max | ${sorted[sorted.length - 1].toFixed(1)} ms |`);
        console.log(`| events before their create's 2xx (counted as 0) | ${[...early.values()].reduce((a, b) => a + b, 0)} |`);
        console.log(`| server memory (RSS, all processes) before / with streams | ${(before / 1024).toFixed(1)} / ${(after / 1024).toFixed(1)} MiB |`);
        console.log(`| memory per open stream | ${((after - before) / settings.streams).toFixed(1)} KiB |`);
        console.log(`| create throughput, NOTIFY trigger on (median of ${settings.rounds} × ${settings.burst}, 32 clients) | ${median(throughput.notify).toFixed(0)} /s |`);
        console.log(`| create throughput, NOTIFY trigger off | ${median(throughput.none).toFixed(0)} /s |`);

        for (const socket of sockets) {
            socket.destroy();
        }

        keepAlive.destroy();
    }
    finally {
        process.kill(-child.pid!, 'SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
        await db.destroy();
        await admin.knex.raw(`drop database ${name} with (force)`);
        await admin.destroy();
    }
}


main().catch((err: unknown) => {

    console.error(err);
    process.exit(1);
});
