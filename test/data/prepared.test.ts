import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import test from 'ava';

import { parseTaskLimits } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/connection';
import { openPglite } from '../../src/data/embedded-template';
import { taskStore } from '../../src/data/tasks';
import { createScratchDatabase, testDatabaseConfig } from '../helpers/database';
import type { Task } from '../../src/common/tasks';


const internals = {
    timeouts: { timeoutMs: 15_000, queryTimeoutMs: 0 },
    preparedNames: { name: '', text: 'select name from pg_prepared_statements order by name' },

    /** A PostgreSQL of the test's own: the test database's server, or PGlite served on TCP, as a pooler would see it. */
    async target(t: import('ava').ExecutionContext): Promise<{ url: string; sharedSession: boolean }> {

        const base = await testDatabaseConfig();
        if (base.kind === 'postgres') {
            const scratch = await createScratchDatabase(base.url);
            t.teardown(() => scratch.drop());
            return { url: scratch.url, sharedSession: false };
        }

        return { url: await internals.sharedSession(t), sharedSession: true };
    },

    /** PGlite on TCP: every connection is one session, as behind a transaction pooler several clients share one. */
    async sharedSession(t: import('ava').ExecutionContext): Promise<string> {

        // From the build's copy of an empty database: PGlite's initdb takes seconds.
        const pglite = await openPglite(null);
        const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 8 });
        await server.start();
        t.teardown(async () => {

            await server.stop();
            await pglite.close();
        });

        return `postgres://postgres@${server.getServerConn()}/postgres`;
    },

    async open(t: import('ava').ExecutionContext, url: string, poolMax: number, warnings: string[], preparedStatements?: boolean): Promise<Database> {

        const log = { warn: (message: unknown) => warnings.push(String(message)), error() {}, deprecate() {}, debug() {} };
        // knex's migrator takes two connections (its lock's transaction, and the list of migrations run).
        const migrator = await createDatabase({ kind: 'postgres', url, poolMax: 2, ...internals.timeouts });
        await migrator.knex.migrate.latest();
        await migrator.destroy();

        const db = await createDatabase({ kind: 'postgres', url, poolMax, preparedStatements, ...internals.timeouts }, { log });
        t.teardown(() => db.destroy());
        return db;
    }
};


test('the store\'s statements are prepared by name on the connection, once, and run by name after that', async (t) => {

    const { url, sharedSession } = await internals.target(t);
    const warnings: string[] = [];
    // One connection: every statement below runs on it.
    const db = await internals.open(t, url, 1, warnings);
    const tasks = taskStore(db, parseTaskLimits({}));

    const created = (await tasks.createTaskForUser('prepared-user', { title: 'Prepared', description: null, completed: false, priority: 'medium', due_date: null })) as Task;
    for (let i = 0; i < 3; ++i) {
        t.is((await tasks.getTaskForUser('prepared-user', created.id))?.title, 'Prepared');
    }

    await tasks.listTasksForUser('prepared-user', { limit: 10 });
    const names = (await db.query<{ name: string }>(internals.preparedNames, [])).rows.map((row) => row.name);
    t.true(names.includes('tasks.create'), names.join(', '));
    t.true(names.includes('tasks.get'), names.join(', '));
    t.true(names.some((name) => name.startsWith('tasks.list.')), names.join(', '));
    t.is(new Set(names).size, names.length);
    t.deepEqual(warnings, [], sharedSession ? 'one connection to a shared session' : 'a session of its own');
});


test('DB_PREPARED_STATEMENTS=false: nothing is prepared by name', async (t) => {

    const { url } = await internals.target(t);
    const db = await internals.open(t, url, 1, [], false);
    const tasks = taskStore(db, parseTaskLimits({}));

    await tasks.listTasksForUser('unprepared-user', { limit: 10 });
    await tasks.taskStatsForUser('unprepared-user');
    const names = (await db.query<{ name: string }>(internals.preparedNames, [])).rows.map((row) => row.name);
    t.deepEqual(names.filter((name) => name.startsWith('tasks.')), []);
});


test('connections that share one session (a transaction pooler without prepared statements): the names clash, the statements run unnamed from then on, and one warning says what to set', async (t) => {

    const url = await internals.sharedSession(t);
    const warnings: string[] = [];
    const db = await internals.open(t, url, 4, warnings);
    const tasks = taskStore(db, parseTaskLimits({}));

    // Four connections, each preparing the same names in the one session: all but the first clash.
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => tasks.createTaskForUser('shared-user', { title: `Task ${i}`, description: null, completed: false, priority: 'low', due_date: null })));
    t.is(created.filter(Boolean).length, 12);
    t.is((await tasks.listTasksForUser('shared-user', { limit: 100 })).tasks.length, 12);
    t.is((await tasks.taskStatsForUser('shared-user')).total, 12);

    t.is(warnings.length, 1, warnings.join('\n'));
    t.regex(warnings[0], /DB_PREPARED_STATEMENTS=false/);
});


test('a transaction whose statement\'s name is refused (another connection of the session prepared it) runs again unnamed, once, with the same one warning', async (t) => {

    const url = await internals.sharedSession(t);
    const unnamed = await internals.open(t, url, 1, [], false);
    const seed = taskStore(unnamed, parseTaskLimits({}));
    const ids: string[] = [];
    for (const title of ['first', 'second']) {
        ids.push((await seed.createTaskForUser('tx-user', { title, description: null, completed: false, priority: 'low', due_date: null }) as Task).id);
    }

    // A delete is a transaction: the first client prepares its statements by name in the one session, and the
    // second client's transaction finds those names taken.
    const first = await internals.open(t, url, 1, []);
    t.true(await taskStore(first, parseTaskLimits({})).deleteTaskForUser('tx-user', ids[0]));

    const warnings: string[] = [];
    const second = await internals.open(t, url, 1, warnings);
    t.true(await taskStore(second, parseTaskLimits({})).deleteTaskForUser('tx-user', ids[1]));

    t.deepEqual((await seed.listTrashForUser('tx-user', { limit: 10 })).tasks.map((task) => task.title).sort(), ['first', 'second']);
    t.is(warnings.length, 1, warnings.join('\n'));
    t.regex(warnings[0], /DB_PREPARED_STATEMENTS=false/);
});
