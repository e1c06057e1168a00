import test from 'ava';

import { migrateOwnDatabase } from '../../src/data/migrations';
import { createTestDatabase } from '../helpers/database';


test('migrations go up, down and up again', async (t) => {

    const database = await createTestDatabase({ migrate: false });
    t.teardown(() => database.destroy());
    const { db } = database;

    const [, applied] = await db.knex.migrate.latest();
    t.deepEqual(applied, [
        '20261122053000_create_tasks.ts', '20261122053100_create_users.ts',
        '20261201090000_index_task_lists.ts', '20261201090100_create_idempotency_keys.ts',
        '20261206120000_index_idempotency_keys_by_user.ts', '20261207090000_index_task_text.ts',
        '20261207100000_track_task_changes.ts', '20261207110000_notify_changes.ts', '20261207120000_announce_after_commit.ts',
        '20261208090000_organize_tasks.ts'
    ]);
    t.true(await db.knex.schema.hasTable('tasks'));
    t.true(await db.knex.schema.hasTable('users'));
    t.true(await db.knex.schema.hasTable('idempotency_keys'));

    const [, pending] = await db.knex.migrate.list();
    t.deepEqual(pending, []);

    await db.knex.migrate.rollback(undefined, true);
    t.false(await db.knex.schema.hasTable('tasks'));
    t.false(await db.knex.schema.hasTable('users'));
    t.false(await db.knex.schema.hasTable('idempotency_keys'));

    const [, again] = await db.knex.migrate.latest();
    t.is(again.length, applied.length);
    t.true(await db.knex.schema.hasTable('tasks'));
});

test('every unique index on tasks begins with user_id, and the list query has its indexes', async (t) => {

    const database = await createTestDatabase();
    t.teardown(() => database.destroy());

    const { rows } = await database.db.knex.raw(`
        select indexname, indexdef from pg_indexes
        where tablename = 'tasks' and schemaname = current_schema()
        order by indexname`);

    const unique = rows.filter((row: { indexdef: string }) => /UNIQUE/i.test(row.indexdef));
    t.true(unique.length >= 1);
    for (const { indexname, indexdef } of unique) {
        t.regex(indexdef, /\(user_id,/, indexname);
    }

    const names = rows.map((row: { indexname: string }) => row.indexname);
    t.true(names.includes('tasks_user_created_idx'));
    t.true(names.includes('tasks_user_completed_created_idx'));
    // The search's trigram index too, and it begins with user_id like every other.
    t.true(names.includes('tasks_user_text_trgm_idx'));
    // Every index a request reads begins with user_id; the one exception serves the trash's retention, which finds
    // what expired across users by its age.
    const acrossUsers = ['tasks_trashed_idx'];
    for (const { indexname, indexdef } of rows.filter((row: { indexname: string }) => !acrossUsers.includes(row.indexname))) {
        t.regex(indexdef, /\(user_id\b/, indexname);
    }

    t.deepEqual(acrossUsers.filter((name) => names.includes(name)), acrossUsers);
});

test('a start migrates its own database: all of it when new, the rest when behind, with one statement when current', async (t) => {

    const database = await createTestDatabase({ migrate: false });
    t.teardown(() => database.destroy());
    const { db } = database;
    const statements: string[] = [];
    db.knex.on('query', (query: { sql: string }) => statements.push(query.sql));

    await migrateOwnDatabase(db.knex);
    const [, pending] = await db.knex.migrate.list();
    t.deepEqual(pending, []);
    t.true(await db.knex.schema.hasTable('idempotency_keys'));

    // One behind: the last migration undone is applied again.
    const [applied] = await db.knex.migrate.list();
    await db.knex.migrate.down();
    const [, behind] = await db.knex.migrate.list();
    t.is(behind.length, 1);
    await migrateOwnDatabase(db.knex);
    t.deepEqual((await db.knex.migrate.list())[0], applied);

    statements.length = 0;
    await migrateOwnDatabase(db.knex);
    t.deepEqual(statements, ['select name from knex_migrations']);
});
