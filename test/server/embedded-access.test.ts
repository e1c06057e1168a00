import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';

import { run } from '../../cli/main';
import { mintToken } from '../../src/auth/tokens';
import type { EmbeddedOwner } from '../../src/data/embedded';
import { lockPathOf } from '../../src/data/embedded';
import { testSecret } from '../helpers/api';
import { runServer, send, startServer } from '../helpers/process';


// Who can reach the embedded database and its files. The attacks are made as they would be: as another local
// account (nobody, through setpriv) connecting to what the lock file names, and with files another account wrote.
const test = anyTest.serial as TestFn;


const internals = {
    nobody: 65534,
    // Longer than the 103 bytes a Unix socket address holds, once the socket's name is added.
    longName: 'a-data-directory-whose-path-is-longer-than-a-unix-socket-address-can-hold-'.padEnd(110, 'x'),

    scratch(t: ExecutionContext): string {

        // World-searchable, as the system's temporary directory is, so that only the modes set below keep anyone out.
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-access-'));
        Fs.chmodSync(dir, 0o755);
        t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
        return dir;
    },

    owner(dataDir: string): EmbeddedOwner {

        return JSON.parse(Fs.readFileSync(lockPathOf(dataDir), 'utf8'));
    },

    /** psql as the nobody account, on the socket (or the TCP port) the lock file names. */
    psqlAsNobody(socket: Record<string, unknown>, sql: string): { status: number | null; stdout: string; stderr: string } {

        const target = typeof socket.path === 'string' ?
            ['-h', Path.dirname(socket.path), '-p', '5432'] :
            ['-h', String(socket.host), '-p', String(socket.port)];

        const psql = ChildProcess.spawnSync('setpriv', [
            `--reuid=${internals.nobody}`, `--regid=${internals.nobody}`, '--clear-groups', '--',
            'psql', ...target, '-U', 'postgres', '-d', 'postgres', '-w', '-Atc', sql
        ], { encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: '/' }, timeout: 10_000 });

        return { status: psql.status, stdout: psql.stdout, stderr: psql.stderr };
    },

    auth(userId: string, secret = testSecret): Record<string, string> {

        const token = mintToken({ secret: Buffer.from(secret), issuer: null, audience: null }, { userId, ttlSec: 600 }).token;
        return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    },

    /** Entries under dir that anyone but their owner may read or write. */
    openToOthers(dir: string): string[] {

        return Fs.readdirSync(dir, { recursive: true }).map((entry) => Path.join(dir, entry.toString()))
            .filter((path) => !Fs.lstatSync(path).isSymbolicLink() && (Fs.lstatSync(path).mode & 0o077) !== 0);
    },

    asRoot(t: ExecutionContext): boolean {

        if (process.getuid?.() !== 0) {
            t.log('not root: the checks as another account cannot be made here; the modes that keep it out are checked instead');
            return false;
        }

        return true;
    }
};


test('a data directory too long for a socket in it is served on a socket in a private directory that another local user cannot reach', async (t) => {

    const dataDir = Path.join(internals.scratch(t), internals.longName, 'data');
    const env = { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` };
    const server = await startServer(env);
    t.teardown(() => server.destroy());
    t.is((await send(server.uri, 'POST', '/api/tasks', internals.auth('victim'), JSON.stringify({ title: 'Private' }))).status, 201);

    const socket = internals.owner(dataDir).socket as unknown as Record<string, unknown>;
    t.is(typeof socket.path, 'string', `the database is served on a Unix socket, not ${JSON.stringify(socket)}`);
    if (typeof socket.path === 'string') {
        const directory = Path.dirname(socket.path);
        t.not(directory, dataDir);
        t.true(Buffer.byteLength(socket.path) <= 103);
        t.is(Fs.statSync(directory).mode & 0o777, 0o700);
        t.is(Fs.statSync(directory).uid, process.geteuid!());
        t.is(Fs.statSync(socket.path).mode & 0o777, 0o600);
    }

    if (internals.asRoot(t)) {
        const attempt = internals.psqlAsNobody(socket, 'select title from tasks');
        t.not(attempt.status, 0, `another user read the tasks: ${attempt.stdout}`);
        t.notRegex(attempt.stdout, /Private/);
    }

    // This user's own todo-admin still works through it.
    let stdout = '';
    const code = await run(['users', 'add', '--email', 'owner@example.com', '--id', 'owner'], { env, out: (text) => (stdout += text), err: () => undefined, progressStream: null });
    t.is(code, 0, stdout);

    server.child.kill('SIGTERM');
    t.is((await server.exited).code, 0);
    if (typeof socket.path === 'string') {
        t.false(Fs.existsSync(Path.dirname(socket.path)), 'the socket\'s directory goes with the server');
    }
});

test('with no short place for the socket at all, the server refuses to start with one line saying what to do', async (t) => {

    const scratch = internals.scratch(t);
    const dataDir = Path.join(scratch, internals.longName, 'data');
    const longTmp = Path.join(scratch, internals.longName, 'tmp');
    Fs.mkdirSync(longTmp, { recursive: true });

    const refused = await runServer({ BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}`, TMPDIR: longTmp });
    t.is(refused.code, 1, refused.output);
    const lines = refused.output.split('\n').filter((line) => line.startsWith('todo-api:'));
    t.is(lines.length, 1, refused.output);
    t.regex(lines[0], /^todo-api: failed to start: no socket can be made for the embedded database in .*: its path is too long for a Unix socket.*shorter path \(DATABASE_URL=pglite:\/\/DIR\), or set TMPDIR/);
    t.false(Fs.existsSync(lockPathOf(dataDir)), 'nothing is left holding the directory');
});

test('a data directory others may enter is made private, and every database file in it is the owner\'s only', async (t) => {

    const dataDir = Path.join(internals.scratch(t), 'data');
    Fs.mkdirSync(dataDir, { mode: 0o777 });
    Fs.chmodSync(dataDir, 0o777);

    const server = await startServer({ BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` });
    t.teardown(() => server.destroy());
    t.is((await send(server.uri, 'POST', '/api/tasks', internals.auth('owner'), JSON.stringify({ title: 'Mine' }))).status, 201);

    t.is(Fs.statSync(dataDir).mode & 0o777, 0o700);
    t.deepEqual(internals.openToOthers(dataDir).filter((path) => !path.endsWith('.s.PGSQL.5432')), []);
    if (internals.asRoot(t)) {
        const attempt = internals.psqlAsNobody({ path: Path.join(dataDir, '.s.PGSQL.5432') }, 'select title from tasks');
        t.not(attempt.status, 0, attempt.stdout);
    }

    server.child.kill('SIGTERM');
    t.is((await server.exited).code, 0);
});

test('a data directory, or a file in it, that another user owns is refused, and nothing is opened', async (t) => {

    if (!internals.asRoot(t)) {
        // Without root no file can be given to another user; the refusal of a foreign file is covered by the owner check.
        t.pass();
        return;
    }

    const dataDir = Path.join(internals.scratch(t), 'data');
    Fs.mkdirSync(dataDir, { mode: 0o700 });
    Fs.chownSync(dataDir, internals.nobody, internals.nobody);
    const foreignDir = await runServer({ BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` });
    t.is(foreignDir.code, 1, foreignDir.output);
    t.regex(foreignDir.output, new RegExp(`todo-api: failed to start: the directory ${dataDir} belongs to uid ${internals.nobody}, not to this user`));

    Fs.chownSync(dataDir, process.geteuid!(), process.getegid!());
    Fs.writeFileSync(Path.join(dataDir, 'postgresql.auto.conf'), 'planted');
    Fs.chownSync(Path.join(dataDir, 'postgresql.auto.conf'), internals.nobody, internals.nobody);
    const foreignFile = await runServer({ BETTER_AUTH_SECRET: testSecret, DATABASE_URL: `pglite://${dataDir}` });
    t.is(foreignFile.code, 1, foreignFile.output);
    t.regex(foreignFile.output, /todo-api: failed to start: .*postgresql\.auto\.conf belongs to uid 65534.*written by someone else/);
    t.false(Fs.existsSync(Path.join(dataDir, 'PG_VERSION')), 'no database was made in it');
});

test('a development secret someone else could have written is refused: a token signed with it opens nothing', async (t) => {

    const planted = 'a-secret-planted-by-another-local-account-0123456789';
    const dataDir = Path.join(internals.scratch(t), 'data');
    Fs.mkdirSync(dataDir, { mode: 0o700 });
    const secretFile = Path.join(dataDir, 'dev-secret');

    const cases: [string, () => void, RegExp][] = [
        ['readable by others', () => Fs.chmodSync(secretFile, 0o644), /is open to other users \(mode 0644, not 0600\)/],
        ['a link to another file', () => {

            Fs.renameSync(secretFile, `${secretFile}.target`);
            Fs.symlinkSync(`${secretFile}.target`, secretFile);
        }, /is a symbolic link/]
    ];

    if (process.getuid?.() === 0) {
        cases.push(['owned by another user', () => Fs.chownSync(secretFile, internals.nobody, internals.nobody), /belongs to uid 65534, not to this user/]);
    }

    for (const [name, plant, reason] of cases) {
        Fs.rmSync(secretFile, { force: true });
        Fs.rmSync(`${secretFile}.target`, { force: true });
        Fs.writeFileSync(secretFile, planted, { mode: 0o600 });
        plant();

        const refused = await runServer({ DATABASE_URL: `pglite://${dataDir}` });
        t.is(refused.code, 1, `${name}: ${refused.output}`);
        t.regex(refused.output, /todo-api: configuration error: BETTER_AUTH_SECRET is not set, and the development secret is refused: /, name);
        t.regex(refused.output, reason, name);
    }

    // The secret the server makes for itself is private, and tokens signed with it work.
    Fs.rmSync(secretFile, { force: true });
    Fs.rmSync(`${secretFile}.target`, { force: true });
    const server = await startServer({ DATABASE_URL: `pglite://${dataDir}` });
    t.teardown(() => server.destroy());
    t.is(Fs.statSync(secretFile).mode & 0o777, 0o600);
    const made = Fs.readFileSync(secretFile, 'utf8');
    t.is((await send(server.uri, 'GET', '/api/tasks', internals.auth('owner', made))).status, 200);
    t.is((await send(server.uri, 'GET', '/api/tasks', internals.auth('owner', planted))).status, 401);
    server.child.kill('SIGTERM');
    await server.exited;
});
