import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Http from 'node:http';
import Os from 'node:os';
import Path from 'node:path';
import Readline from 'node:readline';

import test from 'ava';

import { mintToken } from '../../src/auth/tokens';
import { testSecret } from '../helpers/api';


const root = Path.resolve(__dirname, '..', '..');


interface Running {
    child: ChildProcess.ChildProcess;
    uri: string;
    lines: string[];
    exited: Promise<number | null>;
}


function start(env: Record<string, string>): Promise<Running> {

    const child = ChildProcess.spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH!, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe']
    });

    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    Readline.createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));

    return new Promise((resolve, reject) => {

        Readline.createInterface({ input: child.stdout! }).on('line', (line) => {

            lines.push(line);
            const entry = JSON.parse(line);
            if (entry.msg === 'todo-api listening') {
                resolve({ child, uri: entry.uri, lines, exited });
            }
        });

        exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${lines.join('\n')}`)));
    });
}


function send(uri: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {

    return new Promise((resolve, reject) => {

        const req = Http.request(`${uri}${path}`, { method, headers }, (res) => {

            let data = '';
            res.on('data', (chunk) => (data += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body: data }));
        });

        req.on('error', reject);
        req.end(body);
    });
}


test('on the embedded database: migrates on start, keeps data across restarts, stops cleanly on SIGTERM mid-request', async (t) => {

    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-api-'));
    t.teardown(() => Fs.rmSync(dataDir, { recursive: true, force: true }));
    const env = { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` };
    const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId: 'proc-user', ttlSec: 600 }).token;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const first = await start(env);
    t.teardown(() => first.child.kill('SIGKILL'));
    t.is((await send(first.uri, 'GET', '/health', {})).status, 200);
    const created = await send(first.uri, 'POST', '/api/tasks', auth, JSON.stringify({ title: 'survives restarts' }));
    t.is(created.status, 201);

    // A request whose body is still arriving when SIGTERM comes must still be answered.
    const body = JSON.stringify({ title: 'in flight' });
    const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {

        const req = Http.request(`${first.uri}/api/tasks`, { method: 'POST', headers: { ...auth, 'content-length': String(body.length) } }, (res) => {

            let data = '';
            res.on('data', (chunk) => (data += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body: data }));
        });

        req.on('error', reject);
        req.write(body.slice(0, 5));
        setTimeout(() => {

            first.child.kill('SIGTERM');
            setTimeout(() => req.end(body.slice(5)), 300);
        }, 200);
    });

    const answered = await inFlight;
    t.is(answered.status, 201);
    t.is(await first.exited, 0);
    t.true(first.lines.some((line) => line.includes('"stopped"')));

    // Logs: JSON lines with a request id, and never the token.
    const responses = first.lines.filter((line) => line.includes('"[response]') || line.includes('"responseTime"')).map((line) => JSON.parse(line));
    t.true(responses.length >= 3);
    t.true(responses.every((entry) => typeof entry.req_id === 'string' && typeof entry.res.statusCode === 'number'));
    t.false(first.lines.some((line) => line.includes(token) || /authorization/i.test(line)));

    const second = await start(env);
    t.teardown(() => second.child.kill('SIGKILL'));
    const list = await send(second.uri, 'GET', '/api/tasks', auth);
    t.deepEqual(JSON.parse(list.body).map((task: { title: string }) => task.title), ['in flight', 'survives restarts']);
    second.child.kill('SIGINT');
    t.is(await second.exited, 0);
});

test('bad configuration stops the start with one line naming the variable', async (t) => {

    const child = ChildProcess.spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH!, BETTER_AUTH_SECRET: 'short', DATABASE_URL: 'pglite://memory' },
        encoding: 'utf8'
    });

    t.is(child.status, 1);
    t.is(child.stderr.trim(), 'todo-api: configuration error: BETTER_AUTH_SECRET is too short: it needs at least 32 characters');
});
