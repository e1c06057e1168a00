import ChildProcess from 'node:child_process';
import Path from 'node:path';

import test from 'ava';

import Package from '../../package.json';
import { createScratchDatabase, testDatabaseConfig } from '../helpers/database';


const root = Path.resolve(__dirname, '..', '..');
const bin = Path.join(root, Package.bin['todo-admin']);

const todoAdmin = (argv: string[], env: Record<string, string> = {}) => ChildProcess.spawnSync(process.execPath, [bin, ...argv], {
    cwd: root,
    env: { PATH: process.env.PATH!, ...env },
    encoding: 'utf8'
});


test('the package bin runs todo-admin: help with examples and exit codes, version', (t) => {

    const help = todoAdmin(['--help']);
    t.is(help.status, 0);
    t.regex(help.stdout, /Usage: todo-admin/);
    t.regex(help.stdout, /Exit codes: 0 done/);

    for (const command of ['migrate', 'seed', 'mint-token', 'health', 'doctor', 'users', 'keys']) {
        const sub = todoAdmin([command, '--help']);
        t.is(sub.status, 0, command);
        t.regex(sub.stdout, /Example/, command);
    }

    const version = todoAdmin(['--version']);
    t.is(version.stdout.trim(), Package.version);
});

test('exit codes reach the shell', async (t) => {

    t.is(todoAdmin(['no-such-command']).status, 2);
    t.is(todoAdmin(['health', '--url', 'http://127.0.0.1:1', '--timeout', '500ms']).status, 1);

    const config = await testDatabaseConfig();
    if (config.kind === 'postgres') {
        // A fresh database has every migration pending.
        const scratch = await createScratchDatabase(config.url);
        t.teardown(() => scratch.drop());
        t.is(todoAdmin(['migrate', 'status'], { DATABASE_URL: scratch.url }).status, 3);
    }
    else {
        t.is(todoAdmin(['migrate', 'status'], { DATABASE_URL: 'pglite://memory' }).status, 3);
    }
});
