// Load test: GET /api/tasks (20 tasks) on PostgreSQL, todo-api against a bare node:http + pg handler.
// Usage: npm run bench [-- --connections 50 --duration 10]
import ChildProcess from 'node:child_process';
import Net from 'node:net';
import Path from 'node:path';
import { parseArgs } from 'node:util';

import Autocannon from 'autocannon';
import Knex from 'knex';

import { mintToken } from '../src/auth/tokens';


const root = Path.resolve(__dirname, '..');
const { values: args } = parseArgs({
    options: {
        connections: { type: 'string', default: '50' },
        duration: { type: 'string', default: '10' },
        tasks: { type: 'string', default: '20' },
        url: { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' }
    }
});

const secret = 'bench-secret-that-is-long-enough-0123456789';
const schema = 'bench';
const user = 'bench-user';
const databaseUrl = `${args.url}${args.url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;


function freePort(): Promise<number> {

    return new Promise((resolve) => {

        const probe = Net.createServer().listen(0, '127.0.0.1', () => {

            const { port } = probe.address() as Net.AddressInfo;
            probe.close(() => resolve(port));
        });
    });
}


// Starts a server with its log going to /dev/null (a collector's pipe costs about as much) and waits until it answers.
async function spawn(script: string[], env: Record<string, string>): Promise<{ port: number; stop(): Promise<void> }> {

    const port = await freePort();
    const child = ChildProcess.spawn(process.execPath, ['--import', 'tsx', ...script], {
        cwd: root,
        env: { PATH: process.env.PATH!, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, DB_POOL_MAX: '10', ...env },
        stdio: ['ignore', 'ignore', 'inherit']
    });

    const stop = () => new Promise<void>((done) => {

        child.once('exit', () => done());
        child.kill('SIGTERM');
    });

    for (let i = 0; i < 200 && child.exitCode === null; ++i) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        try {
            await fetch(`http://127.0.0.1:${port}/health/live`);
            return { port, stop };
        }
        catch {
            // Not listening yet.
        }
    }

    child.kill('SIGKILL');
    throw new Error(`${script.join(' ')} did not start`);
}


async function load(name: string, port: number, headers: Record<string, string>) {

    const options = { url: `http://127.0.0.1:${port}/api/tasks`, headers, connections: Number(args.connections) };
    await Autocannon({ ...options, duration: 3 });                               // warm-up: JIT, pools
    const result = await Autocannon({ ...options, duration: Number(args.duration) });
    const non2xx = result.non2xx + result.errors + result.timeouts;
    return { name, 'req/s': Math.round(result.requests.average), 'p50 ms': result.latency.p50, 'p99 ms': result.latency.p99, 'non-2xx/errors': non2xx };
}


async function main() {

    const db = Knex({ client: 'pg', connection: args.url });
    await db.raw(`drop schema if exists ${schema} cascade`);
    await db.raw(`create schema ${schema}`);
    const scoped = Knex({ client: 'pg', connection: databaseUrl, migrations: { directory: Path.join(root, 'migrations'), loadExtensions: ['.ts'] } });
    await scoped.migrate.latest();
    await scoped.raw(`insert into tasks (user_id, title, description) select ?, 'Task ' || n, 'Something to do' from generate_series(1, ?) n`, [user, Number(args.tasks)]);
    await scoped.raw(`insert into tasks (user_id, title) select 'other-' || (n % 1000), 'Task ' || n from generate_series(1, 100000) n`);
    await scoped.raw('analyze tasks');
    await scoped.destroy();

    const token = mintToken({ secret: Buffer.from(secret), issuer: null, audience: null }, { userId: user, ttlSec: 3600 }).token;
    const results = [];

    const bare = await spawn(['bench/bare-server.ts'], { BENCH_USER: user });
    results.push(await load('bare node:http + pg', bare.port, {}));
    await bare.stop();

    for (const level of ['info', 'warn']) {
        const api = await spawn(['src/index.ts'], { BETTER_AUTH_SECRET: secret, LOG_LEVEL: level });
        results.push(await load(`todo-api (LOG_LEVEL=${level})`, api.port, { authorization: `Bearer ${token}` }));
        await api.stop();
    }

    console.table(results);
    const baseline = results[0]['req/s'];
    for (const result of results.slice(1)) {
        console.log(`${result.name}: ${(100 * result['req/s'] / baseline).toFixed(1)}% of the bare handler's throughput`);
    }

    await db.raw(`drop schema if exists ${schema} cascade`);
    await db.destroy();
}


main().catch((err) => {

    console.error(err);
    process.exit(1);
});
