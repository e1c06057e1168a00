import Fs from 'node:fs';
import Net from 'node:net';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import { mintToken } from '../../src/auth/tokens';
import { lockPathOf } from '../../src/data/embedded';
import { testSecret } from '../helpers/api';
import { childPids, createServerDatabase, createTasksUnderLoad, processExists, runServer, send, startServer, untilReleased } from '../helpers/process';
import { waitFor } from '../helpers/wait';


test('WEB_CONCURRENCY=2 under npm start: workers share the port, one that dies is replaced, SIGTERM stops them all losing no 201', async (t) => {

    const database = await createServerDatabase();
    t.teardown(database.drop);

    const server = await startServer({ BETTER_AUTH_SECRET: testSecret, WEB_CONCURRENCY: '2', V8_SEMI_SPACE_MB: '8', ...database.env }, 'npm-start');
    t.teardown(() => server.destroy());

    // npm, then the primary, then its two workers: each node started with the young generation asked for.
    const [primary] = childPids(server.child.pid!);
    const workers = childPids(primary);
    const flags = (pid: number) => Fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    t.is(workers.length, 2);
    for (const pid of [primary, ...workers]) {
        t.true(flags(pid).includes('--max-semi-space-size=8'), flags(pid).join(' '));
    }

    t.like(server.entries().find((entry) => entry.msg === 'todo-api listening'), { pid: primary, workers: 2 });
    if (database.env.DATABASE_URL.startsWith('pglite://')) {
        // On the embedded database the primary owns the directory, and the workers go through its socket.
        t.like(JSON.parse(Fs.readFileSync(lockPathOf(database.env.DATABASE_URL.slice('pglite://'.length)), 'utf8')), { role: 'todo-api', pid: primary });
    }

    const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId: 'worker-user', ttlSec: 600 }).token;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const load = createTasksUnderLoad(server.uri, headers);

    // Both workers answer (each logs its responses).
    const answeredBy = () => new Set(server.entries().filter((entry) => String(entry.msg).startsWith('[response]')).map((entry) => entry.pid));
    await waitFor('both workers to answer the load', () => answeredBy().size >= 2, { withinMs: 20_000 }).catch(() => undefined);
    t.deepEqual([...answeredBy()].sort(), [...workers].sort());

    // One dies: it is logged and replaced, and the port keeps answering meanwhile.
    process.kill(workers[0], 'SIGKILL');
    await waitFor('the primary to start a replacement', () => childPids(primary).length >= 2 && !childPids(primary).includes(workers[0]), { withinMs: 20_000 });

    const replacement = childPids(primary).find((pid) => pid !== workers[1])!;
    const logged = (msg: string, pid: number) => server.entries().some((entry) => entry.msg === msg && entry.pid === pid);
    await waitFor('the replacement to listen', () => logged('worker listening', replacement), { withinMs: 20_000 }).catch(() => undefined);

    // The load's keep-alive connections all moved to the surviving worker; new connections are shared out again.
    await waitFor('the replacement to answer a new connection', async () => {

        await send(server.uri, 'GET', '/api/tasks?limit=1', { authorization: `Bearer ${token}` }, undefined, false);
        return answeredBy().has(replacement);
    }, { withinMs: 5000, everyMs: 50 }).catch(() => undefined);

    t.like(server.entries().find((entry) => entry.msg === 'worker exited unexpectedly: starting another'), { pid: primary, worker_pid: workers[0], signal: 'SIGKILL' });
    t.true(logged('worker listening', replacement), server.lines.slice(-20).join('\n'));
    t.true(flags(replacement).includes('--max-semi-space-size=8'), 'the replacement too');
    t.true(answeredBy().has(replacement), 'the replacement answers');

    t.is((await send(server.uri, 'GET', '/health')).status, 200);

    server.child.kill('SIGTERM');
    const releasedAfterMs = await untilReleased(server.port, 20_000);
    const exit = await server.exited;
    const { acknowledged, statuses } = await load.finish();

    t.true(releasedAfterMs < 10_000, `the port was still taken ${Math.round(releasedAfterMs)} ms after SIGTERM`);
    t.is(exit.code, 0, server.lines.join('\n'));
    t.deepEqual([primary, workers[1], replacement].filter(processExists), [], 'no process of the service is left');
    t.deepEqual(Object.keys(statuses).filter((status) => status !== '201' && status !== 'refused'), [], JSON.stringify(statuses));

    const found = new Set(await database.stored(acknowledged));
    t.deepEqual(acknowledged.filter((id) => !found.has(id)), []);
    t.true(acknowledged.length > 0);
});


test('WEB_CONCURRENCY=2 on a port another process holds: workers that exit before they listen stop the primary with 1, not a loop of restarts', async (t) => {

    const database = await createServerDatabase();
    t.teardown(database.drop);

    const holder = Net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    t.teardown(() => holder.close());
    const { port } = holder.address() as Net.AddressInfo;

    const { code, output } = await runServer({ BETTER_AUTH_SECRET: testSecret, WEB_CONCURRENCY: '2', PORT: String(port), ...database.env }, 'compiled');
    const entries = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string });
    t.is(code, 1, output);
    t.true(entries.some((entry) => entry.msg === 'workers keep exiting before they listen: stopping'), output);
    // Two workers, then as many replacements as it takes to see the start itself fail, and no more.
    t.true(entries.filter((entry) => entry.msg === 'worker exited unexpectedly: starting another').length <= 2, output);
    t.false(entries.some((entry) => entry.msg === 'todo-api listening'));
});


test('WEB_CONCURRENCY=2 with V8_SEMI_SPACE_MB in .env only: the primary, started without the flag, starts its workers with it', async (t) => {

    const database = await createServerDatabase();
    t.teardown(database.drop);

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-semi-space-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
    Fs.writeFileSync(Path.join(dir, '.env'), 'V8_SEMI_SPACE_MB=8\n');

    const server = await startServer({ BETTER_AUTH_SECRET: testSecret, WEB_CONCURRENCY: '2', ...database.env }, 'compiled', dir);
    t.teardown(() => server.destroy());

    const flags = (pid: number) => Fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const primary = server.child.pid!;
    const workers = childPids(primary);
    t.is(workers.length, 2);
    t.false(flags(primary).some((arg) => arg.startsWith('--max-semi-space-size')), flags(primary).join(' '));
    for (const pid of workers) {
        t.true(flags(pid).includes('--max-semi-space-size=8'), flags(pid).join(' '));
    }

    server.child.kill('SIGTERM');
    t.is((await server.exited).code, 0, server.lines.join('\n'));
});
