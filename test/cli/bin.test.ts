import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import Package from '../../package.json';
import { createCliTarget } from '../helpers/cli';
import { createScratchDatabase, testDatabaseConfig } from '../helpers/database';
import { ensureBuilt } from '../helpers/process';


const root = Path.resolve(__dirname, '..', '..');
const bin = Path.join(root, Package.bin['todo-admin']);

const todoAdmin = (argv: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) => {

    return ChildProcess.spawnSync(process.execPath, [...nodeArgs, bin, ...argv], {
        cwd: root,
        env: { PATH: process.env.PATH!, ...env },
        encoding: 'utf8'
    });
};


// The bin runs dist/, as an install without the dev dependencies has it.
test.before(() => ensureBuilt());


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

test('the bin runs the compiled JavaScript: no TypeScript loader, no .ts file, NODE_OPTIONS cleared', async (t) => {

    // Loaded first: refuses to resolve tsx or any .ts file (a .d.ts beside the compiled seeds included).
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-admin-bin-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
    const guard = Path.join(dir, 'no-typescript.cjs');
    Fs.writeFileSync(guard, `'use strict';
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
    const file = resolve.call(this, request, ...rest);
    if (/[\\/]node_modules[\\/]tsx[\\/]/.test(file) || file.endsWith('.ts')) {
        throw new Error('loaded ' + file);
    }
    return file;
};
`);

    const guarded = { NODE_OPTIONS: '' };
    const version = todoAdmin(['--version'], guarded, ['--require', guard]);
    t.is(version.status, 0, version.stderr);
    t.is(version.stdout.trim(), Package.version);
    t.regex(todoAdmin(['--help'], guarded, ['--require', guard]).stdout, /Usage: todo-admin/);

    // A guard that lets a .ts through would prove nothing: it refuses the sources.
    const sources = ChildProcess.spawnSync(process.execPath, ['--require', guard, '-e', 'require("./cli/main.ts")'], { cwd: root, env: { PATH: process.env.PATH! }, encoding: 'utf8' });
    t.regex(sources.stderr, /loaded .*cli[\\/]main\.ts/);

    // The migrations, the seed and doctor, compiled, on a database of this file's own.
    const target = await createCliTarget();
    t.teardown(() => target.destroy());
    const env = { ...target.env, ...guarded };
    for (const argv of [['migrate'], ['seed'], ['migrate', 'status']]) {
        const result = todoAdmin(argv, env, ['--require', guard]);
        t.is(result.status, 0, `${argv.join(' ')}: ${result.stderr}`);
    }

    // Migrated by the compiled migrations, up to date for the sources run by tsx (this process): both record the same names.
    const sameNames = await target.cli(['migrate', 'status']);
    t.is(sameNames.code, 0, sameNames.stdout + sameNames.stderr);

    const doctor = todoAdmin(['doctor', '--json'], env, ['--require', guard]);
    t.is(doctor.status, 0, doctor.stdout + doctor.stderr);
    const checks = (JSON.parse(doctor.stdout) as { checks: { check: string; status: string; detail: string }[] }).checks;
    t.like(checks.find(({ check }) => check === 'migrations'), { status: 'ok' });
});

test('without dist/, the bin says to build it; with sources newer than dist/, it says to build again', (t) => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-admin-bin-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
    Fs.mkdirSync(Path.join(dir, 'cli'));
    Fs.copyFileSync(bin, Path.join(dir, 'cli', 'todo-admin.cjs'));
    const launch = () => ChildProcess.spawnSync(process.execPath, [Path.join(dir, 'cli', 'todo-admin.cjs'), '--version'], { cwd: dir, env: { PATH: process.env.PATH! }, encoding: 'utf8' });

    const missing = launch();
    t.is(missing.status, 1);
    t.is(missing.stderr, 'todo-admin: dist/cli/main.js is missing: run npm run build\n');

    // A build standing in for dist/, and a source older, then newer, than it.
    Fs.mkdirSync(Path.join(dir, 'dist', 'cli'), { recursive: true });
    Fs.writeFileSync(Path.join(dir, 'dist', 'cli', 'main.js'), 'exports.main = async () => 0;\n');
    Fs.mkdirSync(Path.join(dir, 'src', 'data'), { recursive: true });
    const source = Path.join(dir, 'src', 'data', 'tasks.ts');
    Fs.writeFileSync(source, '');
    const built = Fs.statSync(Path.join(dir, 'dist', 'cli', 'main.js')).mtime;
    Fs.utimesSync(source, built, new Date(built.getTime() - 60_000));

    const current = launch();
    t.is(current.status, 0);
    t.is(current.stderr, '');

    Fs.utimesSync(source, built, new Date(built.getTime() + 60_000));
    const stale = launch();
    t.is(stale.status, 0, 'it still runs');
    t.is(stale.stderr, 'todo-admin: the sources are newer than dist/, which runs as it was built: run npm run build\n');
});
