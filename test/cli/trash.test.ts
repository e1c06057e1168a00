import anyTest from 'ava';
import type { TestFn } from 'ava';

import { readChanges, taskStore } from '../../src/data/tasks';
import type { CliTarget } from '../helpers/cli';
import { createCliTarget } from '../helpers/cli';
import type { Task } from '../../src/common/tasks';


const test = anyTest.serial as TestFn<CliTarget>;
const limits = { maxTasksPerUser: 100, maxListsPerUser: 10, maxTaskDepth: 4, idempotencyKeyTtlSec: 60, maxIdempotencyKeysPerUser: 10, trashRetentionDays: 30 };
const fields = (title: string) => ({ title, description: null, completed: false, priority: 'medium' as const, due_date: null });

test.before(async (t) => {

    t.context = await createCliTarget({ migrate: true });
});

test.after.always(async (t) => {

    await t.context?.destroy();
});


test('trash purge --older-than removes the trashed tasks deleted that long ago, for every user; the feed still tells earlier clients', async (t) => {

    const { cli, query } = t.context;
    const before = await query(async (db) => {

        const store = taskStore(db, limits);
        const read = await readChanges(db, 'cli-alice', null, 100);
        for (const [user, title] of [['cli-alice', 'a1'], ['cli-alice', 'a2'], ['cli-bob', 'b1']]) {
            const task = await store.createTaskForUser(user, fields(title));
            await store.deleteTaskForUser(user, (task as Task).id);
        }

        // One deleted long ago, the others now.
        await db.knex.raw('update tasks set deleted_at = deleted_at - interval \'3 days\' where title = \'a1\'');
        return read.outcome === 'changes' ? read.version : -1;
    });

    const older = await cli(['trash', 'purge', '--older-than', '2d', '--json']);
    t.is(older.code, 0, older.stderr);
    t.deepEqual(JSON.parse(older.stdout), { purged: 1, tombstones: 0 });

    const all = await cli(['trash', 'purge', '--older-than', '0s']);
    t.is(all.code, 0, all.stderr);
    t.regex(all.stdout, /^Purged 2 trashed task\(s\) on /);

    await query(async (db) => {

        t.deepEqual((await taskStore(db, limits).listTrashForUser('cli-alice', { limit: 10 })).tasks, []);
        const read = await readChanges(db, 'cli-alice', before, 100);
        t.is(read.outcome === 'changes' && read.changes.filter((change) => change.op === 'delete').length, 2, 'the deletes are still in the feed');
    });
});

test('trash purge alone removes what is past TRASH_RETENTION_DAYS, tombstones too, and the feed forgets cursors before them', async (t) => {

    const { cli, query } = t.context;
    const cursor = await query(async (db) => {

        const store = taskStore(db, limits);
        const read = await readChanges(db, 'cli-carol', null, 100);
        for (const title of ['c1', 'c2']) {
            const task = await store.createTaskForUser('cli-carol', fields(title));
            await store.deleteTaskForUser('cli-carol', (task as Task).id);
        }

        await store.purgeTaskForUser('cli-carol', (await store.listTrashForUser('cli-carol', { limit: 1 })).tasks[0].id);
        await db.knex.raw('update tasks set deleted_at = deleted_at - interval \'8 days\' where user_id = \'cli-carol\'');
        await db.knex.raw('update task_tombstones set deleted_at = deleted_at - interval \'8 days\' where user_id = \'cli-carol\'');
        return read.outcome === 'changes' ? read.version : -1;
    });

    const kept = await cli(['trash', 'purge', '--json']);
    t.deepEqual(JSON.parse(kept.stdout), { purged: 0, tombstones: 0 }, 'within the default 30 days');

    const purged = await cli(['trash', 'purge', '--json'], { TRASH_RETENTION_DAYS: '7' });
    t.is(purged.code, 0, purged.stderr);
    t.deepEqual(JSON.parse(purged.stdout), { purged: 1, tombstones: 1 });

    await query(async (db) => {

        t.deepEqual(await readChanges(db, 'cli-carol', cursor, 100), { outcome: 'forgotten' });
        const { rows } = await db.knex.raw('select (select count(*) from tasks where user_id = \'cli-carol\')::int as tasks, (select count(*) from task_tombstones where user_id = \'cli-carol\')::int as tombstones');
        t.deepEqual(rows[0], { tasks: 0, tombstones: 0 });
    });
});

test('a duration that is not one is a usage error', async (t) => {

    const { cli } = t.context;
    for (const text of ['soon', '-1d', '1w', '']) {
        const result = await cli(['trash', 'purge', '--older-than', text]);
        t.is(result.code, 2, text);
        t.regex(result.stderr, /--older-than must be a duration/);
    }
});
