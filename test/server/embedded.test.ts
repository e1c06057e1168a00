import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import { run } from '../../cli/main';
import { mintToken } from '../../src/auth/tokens';
import { lockEmbedded, lockPathOf } from '../../src/data/embedded';
import { testSecret } from '../helpers/api';
import type { ServerProcess } from '../helpers/process';
import { root, runServer, send, startServer } from '../helpers/process';


interface Context {
    dataDir: string;
    env: Record<string, string>;
}


const test = anyTest.serial as TestFn<Context>;


const internals = {
    auth(userId: string): Record<string, string> {

        const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId, ttlSec: 600 }).token;
        return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    },

    async titles(server: ServerProcess, userId: string): Promise<string[]> {

        const list = await send(server.uri, 'GET', '/api/tasks', internals.auth(userId));
        return (JSON.parse(list.body) as { title: string }[]).map((task) => task.title).sort();
    },

    /** todo-admin as its bin runs it, in this process. */
    async cli(env: Record<string, string>, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {

        let stdout = '';
        let stderr = '';
        const code = await run(argv, { env, out: (text) => (stdout += text), err: (text) => (stderr += text), progressStream: null });
        return { code, stdout, stderr };
    },

    async stop(server: ServerProcess): Promise<number | null> {

        server.child.kill('SIGTERM');
        return (await server.exited).code;
    },

    /** A pid that no process has any more. */
    deadPid(): number {

        const child = ChildProcess.spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
        return Number(child.stdout.trim());
    }
};


// Each test has a data directory of its own (not yet made: the first owner makes it private), so that none needs
// what another left behind and each can run alone.
test.beforeEach((t) => {

    const dataDir = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-embedded-')), 'data');
    t.context = { dataDir, env: { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` } };
});

test.afterEach.always((t) => {

    Fs.rmSync(Path.dirname(t.context.dataDir), { recursive: true, force: true });
});


test('server first: todo-admin works through the running server, and its rows outlive the server', async (t) => {

    const { dataDir, env } = t.context;
    const server = await startServer(env);
    t.teardown(() => server.destroy());

    // Only this user may reach the directory, its socket and its lock.
    t.is(Fs.statSync(dataDir).mode & 0o777, 0o700);
    t.is(Fs.statSync(Path.join(dataDir, '.s.PGSQL.5432')).mode & 0o777, 0o600);
    t.is(Fs.statSync(lockPathOf(dataDir)).mode & 0o777, 0o600);
    t.like(JSON.parse(Fs.readFileSync(lockPathOf(dataDir), 'utf8')), { role: 'todo-api', pid: server.child.pid, socket: { path: Path.join(dataDir, '.s.PGSQL.5432') } });

    t.is((await internals.cli(env, ['seed'])).code, 0);
    t.is((await internals.cli(env, ['seed', '--users', '20', '--tasks-per-user', '3'])).code, 0);
    t.is((await internals.cli(env, ['users', 'add', '--email', 'carol@example.com', '--id', 'carol'])).code, 0);
    t.is((await send(server.uri, 'POST', '/api/tasks', internals.auth('carol'), JSON.stringify({ title: 'Made while todo-admin ran' }))).status, 201);

    // The server sees at once what todo-admin wrote, and todo-admin what the server wrote.
    t.deepEqual(await internals.titles(server, 'demo-alice'), ['Book dentist appointment', 'Buy groceries', 'Read chapter 3', 'Renew passport']);
    t.is((await internals.titles(server, 'load-20')).length, 3);
    const users = await internals.cli(env, ['users', 'list', '--json']);
    const ids: string[] = JSON.parse(users.stdout).map((user: { id: string }) => user.id);
    t.is(ids.length, 23);
    t.true(['carol', 'demo-alice', 'demo-bob', 'load-1', 'load-20'].every((id) => ids.includes(id)));

    t.is(await internals.stop(server), 0);
    t.false(Fs.existsSync(lockPathOf(dataDir)), 'the lock goes with its owner');

    const again = await startServer(env);
    t.teardown(() => again.destroy());
    t.deepEqual(await internals.titles(again, 'carol'), ['Made while todo-admin ran']);
    t.is((await internals.titles(again, 'load-20')).length, 3);
    t.is((await internals.titles(again, 'demo-bob')).length, 3);
    t.is(await internals.stop(again), 0);

    const after = await internals.cli(env, ['users', 'list', '--json']);
    t.is(JSON.parse(after.stdout).length, 23);
});

test('todo-admin first: a server started meanwhile exits 1 naming it, and so does a second todo-admin', async (t) => {

    const { dataDir, env } = t.context;

    // This process holds the directory exactly as a todo-admin command does while it runs.
    const lock = await lockEmbedded(dataDir, 'todo-admin');
    t.teardown(() => lock.release());

    const refused = await runServer(env);
    t.is(refused.code, 1, refused.output);
    t.regex(refused.output, new RegExp(`todo-api: the embedded database in ${dataDir} is in use by a todo-admin command \\(pid ${process.pid}, since [^)]+\\): stop it first`));

    const second = await internals.cli(env, ['users', 'list']);
    t.is(second.code, 1);
    t.regex(second.stderr, new RegExp(`^todo-admin: the embedded database in ${dataDir} is in use by a todo-admin command \\(pid ${process.pid}, since [^)]+\\); try again when it has finished\\n$`));

    lock.release();
    const server = await startServer(env);
    t.teardown(() => server.destroy());
    t.is((await send(server.uri, 'POST', '/api/tasks', internals.auth('dora'), JSON.stringify({ title: 'After todo-admin' }))).status, 201);
    t.deepEqual(await internals.titles(server, 'dora'), ['After todo-admin']);
    t.is(await internals.stop(server), 0);
});

test('a second server on the directory exits 1 naming the first, which keeps serving', async (t) => {

    const { env } = t.context;
    const first = await startServer(env);
    t.teardown(() => first.destroy());
    t.is((await send(first.uri, 'POST', '/api/tasks', internals.auth('erin'), JSON.stringify({ title: 'Before the second' }))).status, 201);

    const second = await runServer(env);
    t.is(second.code, 1, second.output);
    t.regex(second.output, new RegExp(`is in use by the todo-api server \\(pid ${first.child.pid}, since `));

    t.deepEqual(await internals.titles(first, 'erin'), ['Before the second']);
    t.is(await internals.stop(first), 0);
});

test('an owner killed with SIGKILL stops nobody: its acknowledged writes are there for the next owner', async (t) => {

    const { dataDir, env } = t.context;
    const server = await startServer(env);
    t.teardown(() => server.destroy());

    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => {

        return send(server.uri, 'POST', '/api/tasks', internals.auth('crash-user'), JSON.stringify({ title: `Acknowledged ${String(i).padStart(2, '0')}` }));
    }));
    t.true(created.every((answer) => answer.status === 201));

    server.child.kill('SIGKILL');
    await server.exited;
    t.true(Fs.existsSync(lockPathOf(dataDir)), 'a killed owner leaves its lock behind');

    // todo-admin takes the directory over (it does not wait for a process that is gone), then gives it back.
    const users = await internals.cli(env, ['users', 'list', '--json']);
    t.is(users.code, 0, users.stderr);
    t.false(Fs.existsSync(lockPathOf(dataDir)));

    // A killed todo-admin, the same.
    Fs.writeFileSync(lockPathOf(dataDir), JSON.stringify({ role: 'todo-admin', pid: internals.deadPid(), process: null, since: new Date().toISOString(), socket: null }));
    const next = await startServer(env);
    t.teardown(() => next.destroy());
    t.deepEqual(await internals.titles(next, 'crash-user'), created.map((_, i) => `Acknowledged ${String(i).padStart(2, '0')}`));
    t.is(await internals.stop(next), 0);
});

test('a lock naming a live pid that belongs to another process (a reused pid) is taken over', async (t) => {

    const { dataDir } = t.context;
    Fs.mkdirSync(dataDir, { mode: 0o700 });
    Fs.writeFileSync(lockPathOf(dataDir), JSON.stringify({ role: 'todo-api', pid: process.pid, process: 'another-boot:1', since: '2026-01-01T00:00:00.000Z', socket: null }));

    const lock = await lockEmbedded(dataDir, 'todo-admin');
    t.like(JSON.parse(Fs.readFileSync(lockPathOf(dataDir), 'utf8')), { role: 'todo-admin', pid: process.pid });
    lock.release();
    t.false(Fs.existsSync(lockPathOf(dataDir)));
});

test('processes racing for a directory whose owner died: exactly one gets it', async (t) => {

    const { dataDir } = t.context;
    Fs.mkdirSync(dataDir, { mode: 0o700 });
    Fs.writeFileSync(lockPathOf(dataDir), JSON.stringify({ role: 'todo-api', pid: internals.deadPid(), process: null, since: '2026-01-01T00:00:00.000Z', socket: null }));

    // Each says what it got; the winner holds the directory until the others have all answered (then its input ends).
    const said: string[] = [];
    const racers = Array.from({ length: 4 }, () => {

        const child = ChildProcess.spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/lock-embedded.ts', dataDir], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
        let output = '';
        child.stdout.on('data', (chunk) => {

            output += chunk;
            if (output.endsWith('\n')) {
                said.push(output.trim());
                if (said.length === 4) {
                    for (const racer of racers) {
                        racer.child.stdin.end();
                    }
                }
            }
        });

        return { child, exited: new Promise<string>((resolve) => child.on('close', () => resolve(output.trim()))) };
    });

    const outcomes = (await Promise.all(racers.map((racer) => racer.exited))).sort();
    t.deepEqual(outcomes, ['in use', 'in use', 'in use', 'locked']);
    t.false(Fs.existsSync(lockPathOf(dataDir)));
});
