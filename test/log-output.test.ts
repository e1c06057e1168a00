import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import { lineOutput } from '../src/log-output';
import { root } from './helpers/process';
import { waitFor } from './helpers/wait';


const internals = {
    fixture: Path.join(root, 'test', 'fixtures', 'log-lines.ts'),

    tempFile(t: { teardown(fn: () => void): void }): { fd: number; read: () => string } {

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'log-output-'));
        const path = Path.join(dir, 'out.log');
        const fd = Fs.openSync(path, 'a');
        t.teardown(() => {

            Fs.closeSync(fd);
            Fs.rmSync(dir, { recursive: true, force: true });
        });

        return { fd, read: () => Fs.readFileSync(path, 'utf8') };
    },

    /** Runs a shell command line of fixture writers, standard output a pipe read only after pauseMs. */
    run(command: string, pauseMs: number, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {

        const child = ChildProcess.spawn('sh', ['-c', command], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        const stdout: Buffer[] = [];
        let stderr = '';
        child.stdout.pause();
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        setTimeout(() => child.stdout.resume(), pauseMs);
        child.stderr.on('data', (chunk: Buffer) => {

            stderr += chunk.toString('utf8');
        });

        return new Promise((resolve) => {

            child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr }));
        });
    },

    writer(name: string, count: number, lingerMs = 0): string {

        return `"${process.execPath}" --import tsx "${internals.fixture}" ${name} ${count} ${lingerMs}`;
    }
};


test('lines gather into writes of at most 4 KB that end at a line, and come out whole and in order', (t) => {

    const file = internals.tempFile(t);
    const output = lineOutput(file.fd, { flushMs: 60_000 });
    const lines = Array.from({ length: 200 }, (_, n) => `{"n":${n},"text":"${'é'.repeat(n % 50)}"}\n`);

    let sent = 0;
    let written = 0;
    for (const line of lines) {
        output.write(line);
        sent += Buffer.byteLength(line);
        const now = Buffer.byteLength(file.read());
        if (now !== written) {
            t.true(now - written <= 4096, `a write of ${now - written} bytes`);
            t.true(file.read().endsWith('\n'));
            written = now;
        }
    }

    t.true(written > 0, 'batches went out as they filled');
    t.true(sent - written > 0 && sent - written <= 4096, 'the last batch waits');

    output.flush();
    t.is(file.read(), lines.join(''));
});

test('a line waits at most the flush interval', async (t) => {

    const file = internals.tempFile(t);
    const output = lineOutput(file.fd, { flushMs: 50 });
    output.write('{"msg":"alone"}\n');
    t.is(file.read(), '');
    await waitFor('the line to be written', () => file.read() === '{"msg":"alone"}\n', { withinMs: 2000 });
    t.pass();
});

test('pino\'s flush writes what is gathered and calls back', (t) => {

    const file = internals.tempFile(t);
    const output = lineOutput(file.fd, { flushMs: 60_000 });
    output.write('{"msg":"one"}\n');
    let called = 0;
    output.flush(() => ++called);
    t.is(file.read(), '{"msg":"one"}\n');
    t.is(called, 1);
});

test('the lines gathered when the process exits are written', async (t) => {

    const { code, stdout } = await internals.run(internals.writer('a', 30), 0);
    t.is(code, 0);
    t.deepEqual(stdout.trimEnd().split('\n').map((line) => JSON.parse(line).n), Array.from({ length: 30 }, (_, n) => n));
});

test('two processes on one pipe that is not read for a while: every line whole, each process\'s in order, none lost', async (t) => {

    // 2 x 20 000 lines of about 200 bytes: far more than a pipe holds, so writes fail with EAGAIN until it is read.
    const count = 20_000;
    const { code, stdout, stderr } = await internals.run(`${internals.writer('a', count)} & ${internals.writer('b', count)} & wait`, 500, { NONBLOCKING: '1' });
    t.is(code, 0, stderr);

    const next = { a: 0, b: 0 };
    let broken = 0;
    for (const line of stdout.trimEnd().split('\n')) {
        try {
            const { name, n } = JSON.parse(line) as { name: 'a' | 'b'; n: number };
            t.is(n, next[name]++, `${name}'s line ${n} out of order`);
        }
        catch {
            ++broken;
        }
    }

    t.is(broken, 0, 'lines cut into by the other process');
    t.deepEqual(next, { a: count, b: count });
});

test('a closed output stops the writing, not the process', async (t) => {

    const child = ChildProcess.spawn(process.execPath, ['--import', 'tsx', internals.fixture, 'a', '100', '500'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {

        stderr += chunk.toString('utf8');
    });

    const code = await new Promise((resolve) => child.once('close', resolve));
    t.is(code, 0, stderr);
    t.regex(stderr, /^wrote \d+ lines\n$/);
});
