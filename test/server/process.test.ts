import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Http from 'node:http';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import { mintToken } from '../../src/auth/tokens';
import { testSecret } from '../helpers/api';
import { childPids, createServerDatabase, createTasksUnderLoad, processExists, root, runServer, send, startServer, untilReleased } from '../helpers/process';
import { waitFor } from '../helpers/wait';


test('on the embedded database: migrates on start, keeps data across restarts, stops cleanly on SIGTERM mid-request', async (t) => {

    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-api-'));
    t.teardown(() => Fs.rmSync(dataDir, { recursive: true, force: true }));
    const env = { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` };
    const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId: 'proc-user', ttlSec: 600 }).token;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const first = await startServer(env);
    t.teardown(() => first.destroy());
    t.is((await send(first.uri, 'GET', '/health', {})).status, 200);
    const created = await send(first.uri, 'POST', '/api/tasks', auth, JSON.stringify({ title: 'survives restarts' }));
    t.is(created.status, 201);

    // A request whose body is still arriving when SIGTERM comes must still be answered. Its headers ask for a 100
    // Continue, which says that the server has read them: the request is in flight from then on.
    const body = JSON.stringify({ title: 'in flight' });
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {

        const req = Http.request(`${first.uri}/api/tasks`, { method: 'POST', headers: { ...auth, 'content-length': String(body.length), expect: '100-continue' } }, (res) => {

            let data = '';
            res.on('data', (chunk) => (data += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body: data }));
        });

        req.on('error', reject);
        req.on('continue', () => {

            req.write(body.slice(0, 5));
            first.child.kill('SIGTERM');
            // The rest of the body once the server is stopping.
            waitFor('the server to begin stopping', () => first.lines.some((line) => line.includes('stopping: finishing requests in flight')))
                .then(() => req.end(body.slice(5)), reject);
        });

        req.flushHeaders();
    });

    const answered = await inFlight;
    t.is(answered.status, 201);
    t.is((await first.exited).code, 0);
    t.true(first.lines.some((line) => line.includes('"stopped"')));

    // Logs: JSON lines with a request id, and never the token.
    const responses = first.lines.filter((line) => line.includes('"[response]') || line.includes('"responseTime"')).map((line) => JSON.parse(line));
    t.true(responses.length >= 3);
    t.true(responses.every((entry) => typeof entry.req_id === 'string' && typeof entry.res.statusCode === 'number'));
    t.false(first.lines.some((line) => line.includes(token) || /authorization/i.test(line)));

    const second = await startServer(env);
    t.teardown(() => second.destroy());
    const list = await send(second.uri, 'GET', '/api/tasks', auth);
    t.deepEqual(JSON.parse(list.body).map((task: { title: string }) => task.title), ['in flight', 'survives restarts']);
    second.child.kill('SIGINT');
    t.is((await second.exited).code, 0);
});

test('bad configuration stops the start with one line naming the variable', (t) => {

    const child = ChildProcess.spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH!, BETTER_AUTH_SECRET: 'short', DATABASE_URL: 'pglite://memory' },
        encoding: 'utf8'
    });

    t.is(child.status, 1);
    t.is(child.stderr.trim(), 'todo-api: configuration error: BETTER_AUTH_SECRET is too short: it needs at least 32 characters');
});

test('npm start under load: SIGTERM to the top process stops everything, frees the port, and every 201 is stored', async (t) => {

    const { env, stored, drop } = await createServerDatabase();
    t.teardown(drop);

    const server = await startServer({ BETTER_AUTH_SECRET: testSecret, ...env }, 'npm-start');
    t.teardown(() => server.destroy());

    // npm runs the server as its child, with no shell left between them (exec).
    const [serverPid] = childPids(server.child.pid!);
    t.truthy(serverPid);
    t.regex(Fs.readFileSync(`/proc/${serverPid}/cmdline`, 'utf8'), /^node\0.*dist\/src\/index\.js\0$/);
    t.deepEqual(childPids(serverPid).filter((pid) => !Fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node')), []);

    const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId: 'stop-user', ttlSec: 600 }).token;
    const load = createTasksUnderLoad(server.uri, { authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    // SIGTERM comes with the load flowing: some creates acknowledged, more in flight.
    await waitFor('the load to be answered', () => load.acknowledged() >= 40, { withinMs: 20_000 });
    server.child.kill('SIGTERM');

    const releasedAfterMs = await untilReleased(server.port, 15_000);
    const exit = await server.exited;
    const { acknowledged, statuses } = await load.finish();

    t.true(releasedAfterMs < 10_000, `the port was still taken ${Math.round(releasedAfterMs)} ms after SIGTERM (the shutdown timeout is 10 s)`);
    t.false(processExists(serverPid), 'the server process is gone');
    t.is(exit.code, 0, server.lines.join('\n'));
    t.true(server.lines.some((line) => line.includes('"stopped"')));
    t.true(acknowledged.length > 0);
    t.deepEqual(Object.keys(statuses).filter((status) => status !== '201' && status !== 'refused'), [], JSON.stringify(statuses));

    const found = new Set(await stored(acknowledged));
    t.deepEqual(acknowledged.filter((id) => !found.has(id)), []);
});

test('nothing set: the embedded database and a development secret kept beside it, which todo-admin signs with too', async (t) => {

    // A working directory of its own stands for a fresh clone: ./.data is made there.
    const cwd = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-fresh-'));
    t.teardown(() => Fs.rmSync(cwd, { recursive: true, force: true }));

    const server = await startServer({}, 'compiled', cwd);
    t.teardown(() => server.destroy());

    const file = Path.join(cwd, '.data', 'dev-secret');
    t.is(Fs.statSync(file).mode & 0o777, 0o600);
    const warnings = server.entries().filter((entry) => entry.level === 40);
    t.is(warnings.length, 1);
    t.like(warnings[0], { secret_file: file, msg: 'BETTER_AUTH_SECRET is not set: using a development secret made for this machine; get a token with: npx todo-admin mint-token --user alice' });
    t.false(server.lines.join('\n').includes(Fs.readFileSync(file, 'utf8')), 'the secret itself is never printed');

    // todo-admin, run where the server runs and with nothing set either, signs with the same secret.
    const minted = ChildProcess.spawnSync(process.execPath, [Path.join(root, 'cli', 'todo-admin.cjs'), 'mint-token', '--user', 'alice'], {
        cwd,
        env: { PATH: process.env.PATH! },
        encoding: 'utf8'
    });
    t.is(minted.status, 0, minted.stderr);
    const list = await send(server.uri, 'GET', '/api/tasks', { authorization: `Bearer ${minted.stdout.trim()}` });
    t.is(list.status, 200, list.body);

    server.child.kill('SIGTERM');
    t.is((await server.exited).code, 0);

    // The next start uses the same secret, so tokens already handed out keep working.
    const again = await startServer({}, 'compiled', cwd);
    t.teardown(() => again.destroy());
    t.is((await send(again.uri, 'GET', '/api/tasks', { authorization: `Bearer ${minted.stdout.trim()}` })).status, 200);
    again.child.kill('SIGTERM');
    await again.exited;
});

test('the secret stays required with DATABASE_URL set, or in production', async (t) => {

    const cwd = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-fresh-'));
    t.teardown(() => Fs.rmSync(cwd, { recursive: true, force: true }));
    const required = /^todo-api: configuration error: BETTER_AUTH_SECRET is not set: it must hold the secret the frontend signs its tokens with/m;

    for (const env of [{ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, { NODE_ENV: 'production' }] as Record<string, string>[]) {
        const refused = await runServer(env, 'compiled', cwd);
        t.is(refused.code, 1, JSON.stringify(env));
        t.regex(refused.output, required, JSON.stringify(env));
    }

    t.false(Fs.existsSync(Path.join(cwd, '.data', 'dev-secret')));
});
