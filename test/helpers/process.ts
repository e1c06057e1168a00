import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Http from 'node:http';
import Net from 'node:net';
import Os from 'node:os';
import Path from 'node:path';
import Readline from 'node:readline';

import { parseDatabaseConfig } from '../../src/config';
import { createDatabase } from '../../src/data/connection';
import { silentKnexLogger } from '../../src/logger';
import { receivedViolations } from './contract';
import { createScratchDatabase, testDatabaseConfig } from './database';


export const root = Path.resolve(__dirname, '..', '..');


export interface ServerProcess {
    child: ChildProcess.ChildProcess;
    uri: string;
    port: number;
    /** Everything the process printed, stdout and stderr, line by line. */
    lines: string[];
    /** The log lines that are JSON, parsed. */
    entries(): Record<string, unknown>[];
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    /** Kills the process and everything it started (npm's child, a primary's workers): for a test's teardown. */
    destroy(): void;
}


export interface Answer {
    status: number;
    headers: Http.IncomingHttpHeaders;
    body: string;
}


const internals = {
    built: null as Promise<void> | null,

    // Held by the test process that builds dist/: test files run in processes of their own, and a second build would
    // rewrite dist/ under a server another file is starting from it.
    buildLock: Path.join(root, 'node_modules', '.cache', 'todo-api', 'build.lock'),

    newestMtime(dir: string): number {

        let newest = 0;
        for (const entry of Fs.readdirSync(dir, { withFileTypes: true })) {
            const path = Path.join(dir, entry.name);
            newest = Math.max(newest, entry.isDirectory() ? internals.newestMtime(path) : Fs.statSync(path).mtimeMs);
        }

        return newest;
    },

    /** Whether the server and todo-admin in dist/ were compiled after the last change to their sources. */
    fresh(): boolean {

        const compiled = [Path.join(root, 'dist', 'src', 'index.js'), Path.join(root, 'dist', 'cli', 'main.js')];
        const sources = Math.max(...['src', 'cli', 'migrations', 'seeds'].map((dir) => internals.newestMtime(Path.join(root, dir))));
        return compiled.every((file) => Fs.existsSync(file) && Fs.statSync(file).mtimeMs >= sources);
    },

    /** Whether a live process holds the build lock (one that died while building holds none). */
    lockHeld(): boolean {

        try {
            const pid = Number(Fs.readFileSync(internals.buildLock, 'utf8'));
            // No pid yet: the file was created, and its pid is being written.
            return pid ? processExists(pid) : Date.now() - Fs.statSync(internals.buildLock).mtimeMs < 10_000;
        }
        catch {
            return false;
        }
    },

    /** Takes the build lock, unless a live process holds it. */
    lock(): boolean {

        Fs.mkdirSync(Path.dirname(internals.buildLock), { recursive: true });
        try {
            Fs.writeFileSync(internals.buildLock, String(process.pid), { flag: 'wx' });
            return true;
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || internals.lockHeld()) {
                return false;
            }

            // Left by a process that died while building.
            Fs.rmSync(internals.buildLock, { force: true });
            return false;
        }
    }
};


/**
 * How the server is started: as the README says (`npm start`, the compiled server), the compiled server on its own
 * (from any working directory), or from the sources with the TypeScript loader.
 */
export type StartCommand = 'npm-start' | 'compiled' | 'sources';


/**
 * Compiles dist/ (the server and todo-admin) when a source is newer than it, as `npm install` (the prepare script)
 * does on a fresh clone. Once per test run: the first test file to find it out of date builds under a lock file, and
 * the others wait for that build and find dist/ current.
 */
export function ensureBuilt(): Promise<void> {

    internals.built ??= (async () => {

        for (;;) {
            if (internals.lockHeld()) {
                await sleep(250);
                continue;
            }

            if (internals.fresh()) {
                return;
            }

            if (!internals.lock()) {
                continue;
            }

            try {
                if (!internals.fresh()) {
                    const build = ChildProcess.spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
                    if (build.status !== 0) {
                        throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
                    }
                }

                return;
            }
            finally {
                Fs.rmSync(internals.buildLock, { force: true });
            }
        }
    })();

    return internals.built;
}


/** Starts the server and resolves once it logs that it listens; rejects if it exits first. */
export async function startServer(env: Record<string, string>, command: StartCommand = 'sources', cwd = root): Promise<ServerProcess> {

    if (command !== 'sources') {
        await ensureBuilt();
    }

    const [file, args] = command === 'npm-start' ? ['npm', ['start']] :
        command === 'compiled' ? [process.execPath, [Path.join(root, 'dist', 'src', 'index.js')]] :
            [process.execPath, ['--import', 'tsx', 'src/index.ts']];

    // A process group of its own, so that a teardown can kill what npm or a primary started along with it.
    const child = ChildProcess.spawn(file, args, {
        detached: true,
        cwd,
        // No rate limits unless a test asks for them: loads here send far more than a user would in a minute.
        env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? root, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe']
    });

    const lines: string[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {

        child.once('exit', (code, signal) => resolve({ code, signal }));
    });

    const entries = () => lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const destroy = () => {

        try {
            process.kill(-child.pid!, 'SIGKILL');
        }
        catch {
            // Gone already.
        }
    };

    Readline.createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    return new Promise((resolve, reject) => {

        Readline.createInterface({ input: child.stdout! }).on('line', (line) => {

            lines.push(line);
            if (line.includes('"todo-api listening"')) {
                const uri = JSON.parse(line).uri as string;
                resolve({ child, uri, port: Number(new URL(uri).port), lines, entries, exited, destroy });
            }
        });

        void exited.then(({ code, signal }) => reject(new Error(`exited (${code ?? signal}) before listening:\n${lines.join('\n')}`)));
    });
}


/** Runs the server to its end and returns what it printed: for starts that must fail. */
export async function runServer(env: Record<string, string>, command: StartCommand = 'sources', cwd = root): Promise<{ code: number | null; output: string }> {

    const started = startServer(env, command, cwd);
    try {
        const server = await started;
        server.destroy();
        return { code: null, output: `it started and listened:\n${server.lines.join('\n')}` };
    }
    catch (err) {
        const [, code] = /^exited \((\d+)\)/.exec((err as Error).message) ?? [];
        return { code: code === undefined ? null : Number(code), output: (err as Error).message };
    }
}


export function send(uri: string, method: string, path: string, headers: Record<string, string> = {}, body?: string, agent?: Http.Agent | false): Promise<Answer> {

    return new Promise((resolve, reject) => {

        const req = Http.request(`${uri}${path}`, { method, headers, agent }, (res) => {

            let data = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (data += chunk));
            res.on('end', () => {

                const violations = receivedViolations(method, path, { statusCode: res.statusCode!, headers: res.headers, payload: data });
                if (violations.length) {
                    reject(new Error(`Response breaks openapi.yaml:\n  ${violations.join('\n  ')}\n  body: ${data.slice(0, 300)}`));
                }

                resolve({ status: res.statusCode!, headers: res.headers, body: data });
            });
        });

        req.on('error', reject);
        req.end(body);
    });
}


/** Whether anything accepts connections on the port. */
export function listening(port: number): Promise<boolean> {

    return new Promise((resolve) => {

        const socket = Net.connect(port, '127.0.0.1');
        socket.once('connect', () => {

            socket.destroy();
            resolve(true);
        });
        socket.once('error', () => resolve(false));
    });
}


/** Whether a process with this pid exists (a zombie not yet reaped counts as gone). */
export function processExists(pid: number): boolean {

    try {
        const state = Fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3) !== 'Z';
    }
    catch {
        return false;
    }
}


/** The pids of a process's children (Linux). */
export function childPids(pid: number): number[] {

    try {
        return Fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    }
    catch {
        return [];
    }
}


export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


export interface Load {
    /** How many creates were acknowledged so far. */
    acknowledged(): number;
    /** Stops the clients once their requests in flight are answered (or refused). */
    finish(): Promise<{ acknowledged: string[]; statuses: Record<string, number> }>;
}


/**
 * Clients creating tasks one after another on keep-alive connections until finish(). Each 201's task id is
 * acknowledged; a refused or reset connection (the server stopped listening) counts as `refused`.
 */
export function createTasksUnderLoad(uri: string, headers: Record<string, string>, clients = 20): Load {

    const acknowledged: string[] = [];
    const statuses: Record<string, number> = {};
    let sending = true;

    const client = async (n: number) => {

        const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 });
        while (sending) {
            try {
                const answer = await send(uri, 'POST', '/api/tasks', headers, JSON.stringify({ title: `From client ${n}` }), agent);
                statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
                if (answer.status === 201) {
                    acknowledged.push(JSON.parse(answer.body).id);
                }
            }
            catch {
                statuses.refused = (statuses.refused ?? 0) + 1;
                await sleep(20);
            }
        }

        agent.destroy();
    };

    const running = Array.from({ length: clients }, (_, n) => client(n));
    return {
        acknowledged: () => acknowledged.length,
        async finish() {

            sending = false;
            await Promise.all(running);
            return { acknowledged, statuses };
        }
    };
}


/** Waits until nothing listens on the port any more, up to limitMs; returns how long that took. */
export async function untilReleased(port: number, limitMs: number): Promise<number> {

    const started = performance.now();
    while (await listening(port) && performance.now() - started < limitMs) {
        await sleep(50);
    }

    return performance.now() - started;
}


export interface ServerDatabase {
    /** DATABASE_URL for the server. */
    env: Record<string, string>;
    /** Which of these task ids are in the database (read without the server, once it has let go of it). */
    stored(ids: string[]): Promise<string[]>;
    drop(): Promise<void>;
}


/**
 * The database a deployment would use, for a server process: this run's PostgreSQL (a fresh, migrated database),
 * else an embedded one in a fresh directory (which the server migrates itself).
 */
export async function createServerDatabase(): Promise<ServerDatabase> {

    const base = await testDatabaseConfig();
    if (base.kind === 'postgres') {
        const scratch = await createScratchDatabase(base.url);
        const check = await createDatabase({ ...base, url: scratch.url }, { log: silentKnexLogger() });
        await check.knex.migrate.latest();
        return {
            env: { DATABASE_URL: scratch.url },
            stored: async (ids) => (await check.knex.raw('select id from tasks where id = any(?)', [ids])).rows.map((row: { id: string }) => row.id),
            async drop() {

                await check.destroy();
                await scratch.drop();
            }
        };
    }

    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-api-'));
    const env = { DATABASE_URL: `pglite://${dataDir}` };
    return {
        env,
        async stored(ids) {

            const check = await createDatabase(parseDatabaseConfig(env), { log: silentKnexLogger() });
            try {
                return (await check.knex.raw('select id from tasks where id = any(?)', [ids])).rows.map((row: { id: string }) => row.id);
            }
            finally {
                await check.destroy();
            }
        },
        drop: () => Promise.resolve(Fs.rmSync(dataDir, { recursive: true, force: true }))
    };
}
