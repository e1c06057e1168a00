import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import test from 'ava';

import { embeddedTemplate, openPglite, writeEmbeddedTemplate } from '../../src/data/embedded-template';


const internals = {
    scratch(): string {

        return Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-template-'));
    },

    /** Entries of path that group or others may write, the directory holding it included. */
    writableByOthers(path: string): string[] {

        const entries = Fs.statSync(path).isDirectory() ? Fs.readdirSync(path, { recursive: true }).map((entry) => Path.join(path, entry.toString())) : [];
        return [Path.dirname(path), path, ...entries].filter((entry) => (Fs.lstatSync(entry).mode & 0o022) !== 0);
    },

    /** A copy of the template whose files another user could have changed: one file made writable by all. */
    tampered(template: { directory: string; archive: string }): { directory: string; archive: string } {

        const copy = { directory: Path.join(internals.scratch(), 'template'), archive: '' };
        copy.archive = `${copy.directory}.tar.gz`;
        Fs.cpSync(template.directory, copy.directory, { recursive: true });
        Fs.copyFileSync(template.archive, copy.archive);
        Fs.chmodSync(Path.join(copy.directory, 'PG_VERSION'), 0o666);
        Fs.chmodSync(copy.archive, 0o666);
        return copy;
    },

    async tables(pglite: PGlite): Promise<string[]> {

        const { rows } = await pglite.query<{ name: string }>('select tablename as name from pg_tables where schemaname = \'public\' order by 1');
        return rows.map((row) => row.name);
    }
};


const written = { first: false, again: true };

// One template for the file, marked with a table of its own, so that a database made from it can be told apart.
const marked = (async () => {

    const template = { directory: Path.join(internals.scratch(), 'template'), archive: '' };
    template.archive = `${template.directory}.tar.gz`;
    written.first = await writeEmbeddedTemplate(template);

    const pglite = await PGlite.create(template.directory);
    await pglite.exec('create table made_from_template (x int)');
    const dump = await pglite.dumpDataDir('gzip');
    Fs.writeFileSync(template.archive, Buffer.from(await dump.arrayBuffer()));
    await pglite.close();

    // PGlite wrote the marked files open to all; a build run again over existing copies closes them to others.
    written.again = await writeEmbeddedTemplate(template);
    return template;
})();


test('the build makes the copies once: an empty database as a directory and as an archive', async (t) => {

    const template = await marked;
    t.true(written.first);
    t.false(written.again);
    t.true(Fs.existsSync(Path.join(template.directory, 'PG_VERSION')));
    t.true(Fs.statSync(template.archive).size > 0);
    t.regex(embeddedTemplate().directory, /node_modules\/\.cache\/todo-api\/pglite-\d+\.\d+\.\d+$/);
});

test('a new data directory starts from the copy, and keeps the files already in it', async (t) => {

    const template = await marked;
    const dataDir = Path.join(internals.scratch(), 'data');
    Fs.mkdirSync(dataDir, { mode: 0o700 });
    Fs.writeFileSync(Path.join(dataDir, 'todo-api.lock'), 'owner');

    const pglite = await openPglite(dataDir, template);
    t.teardown(() => pglite.close());
    t.deepEqual(await internals.tables(pglite), ['made_from_template']);
    t.is(Fs.readFileSync(Path.join(dataDir, 'todo-api.lock'), 'utf8'), 'owner');
});

test('a directory that holds a database is opened as it is, never overwritten by the copy', async (t) => {

    const template = await marked;
    const dataDir = Path.join(internals.scratch(), 'data');
    const first = await PGlite.create(dataDir);
    await first.exec('create table mine (x int); insert into mine values (1)');
    await first.close();

    const pglite = await openPglite(dataDir, template);
    t.teardown(() => pglite.close());
    t.deepEqual(await internals.tables(pglite), ['mine']);
});

test('a copy that cannot be used is taken back out of the directory, and initdb makes the database instead', async (t) => {

    const broken = { directory: Path.join(internals.scratch(), 'broken'), archive: Path.join(internals.scratch(), 'broken.tar.gz') };
    Fs.mkdirSync(Path.join(broken.directory, 'base'), { recursive: true });
    Fs.writeFileSync(Path.join(broken.directory, 'PG_VERSION'), 'not a version\n');
    Fs.writeFileSync(Path.join(broken.directory, 'base', 'junk'), 'junk');
    Fs.writeFileSync(broken.archive, 'not an archive');

    const dataDir = Path.join(internals.scratch(), 'data');
    Fs.mkdirSync(dataDir);
    Fs.writeFileSync(Path.join(dataDir, 'dev-secret'), 'kept');

    const pglite = await openPglite(dataDir, broken);
    t.teardown(() => pglite.close());
    t.deepEqual(await internals.tables(pglite), []);
    t.is((await pglite.query<{ one: number }>('select 1 as one')).rows[0].one, 1);
    t.is(Fs.readFileSync(Path.join(dataDir, 'dev-secret'), 'utf8'), 'kept');
    t.false(Fs.existsSync(Path.join(dataDir, 'base', 'junk')));

    const memory = await openPglite(null, broken);
    t.teardown(() => memory.close());
    t.deepEqual(await internals.tables(memory), []);
});

test('an in-memory database starts from the archive', async (t) => {

    const pglite = await openPglite(null, await marked);
    t.teardown(() => pglite.close());
    t.deepEqual(await internals.tables(pglite), ['made_from_template']);
});

test('an in-memory database that never ran a statement is closed with it: nothing keeps the process alive', async (t) => {

    const script = `
        const { createDatabase } = require('./src/data/connection');
        createDatabase({ kind: 'pglite', dataDir: null, timeoutMs: 2000, queryTimeoutMs: 5000 })
            .then((db) => db.destroy())
            .then(() => console.log('destroyed'));`;

    // A process that does not exit by itself is killed after 30 s, and fails the test.
    const child = ChildProcess.spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: Path.resolve(__dirname, '..', '..'), encoding: 'utf8', timeout: 30_000 });
    t.is(child.signal, null, 'the process had to be killed');
    t.is(child.status, 0, child.stderr);
    t.is(child.stdout.trim(), 'destroyed');
});


test('the copies are writable by this user only, and a data directory made from them is this user\'s only', async (t) => {

    const template = await marked;
    t.deepEqual(internals.writableByOthers(template.directory), []);
    t.deepEqual(internals.writableByOthers(template.archive), []);
    t.deepEqual(internals.writableByOthers(embeddedTemplate().directory), [], 'the build\'s own copies, in node_modules/.cache');

    const dataDir = Path.join(internals.scratch(), 'data');
    Fs.mkdirSync(dataDir, { mode: 0o700 });
    const pglite = await openPglite(dataDir, template);
    t.teardown(() => pglite.close());
    t.deepEqual(await internals.tables(pglite), ['made_from_template']);
    const open = Fs.readdirSync(dataDir, { recursive: true }).filter((entry) => (Fs.statSync(Path.join(dataDir, entry.toString())).mode & 0o077) !== 0);
    t.deepEqual(open, []);
});

test('a copy that another user could have changed is not used: initdb makes the database instead', async (t) => {

    const tampered = internals.tampered(await marked);

    const dataDir = Path.join(internals.scratch(), 'data');
    const pglite = await openPglite(dataDir, tampered);
    t.teardown(() => pglite.close());
    t.deepEqual(await internals.tables(pglite), []);

    const memory = await openPglite(null, tampered);
    t.teardown(() => memory.close());
    t.deepEqual(await internals.tables(memory), []);
});
