import test from 'ava';
import type { Knex } from 'knex';

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


/** Every index and key of the user-scoped tables, with the column it begins with (null: an expression). */
async function userScopedKeys(knex: Knex): Promise<Map<string, { table: string; kind: string; first: string | null; referenced: string | null; definition: string }>> {

    const tables = ['tasks', 'lists', 'task_tombstones', 'user_versions', 'idempotency_keys'];
    const { rows: indexes } = await knex.raw(`
        select i.relname as name, c.relname as "table", a.attname as first, pg_get_indexdef(x.indexrelid) as definition
        from pg_index as x
        join pg_class as i on i.oid = x.indexrelid
        join pg_class as c on c.oid = x.indrelid
        left join pg_attribute as a on a.attrelid = c.oid and a.attnum = x.indkey[0]
        where c.relname = any(?) and c.relnamespace = current_schema()::regnamespace
        order by i.relname`, [tables]);
    // Keys: primary, unique, foreign and exclusion constraints (a check holds no key); a foreign key's referenced
    // columns must begin with user_id too, or it could name another user's row.
    const { rows: constraints } = await knex.raw(`
        select k.conname as name, c.relname as "table", k.contype as kind, a.attname as first, r.attname as referenced,
            pg_get_constraintdef(k.oid) as definition
        from pg_constraint as k
        join pg_class as c on c.oid = k.conrelid
        left join pg_attribute as a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
        left join pg_attribute as r on r.attrelid = k.confrelid and r.attnum = k.confkey[1]
        where c.relname = any(?) and c.relnamespace = current_schema()::regnamespace and k.contype in ('p', 'u', 'f', 'x')
        order by k.conname`, [tables]);

    const keys = new Map();
    for (const row of indexes) {
        keys.set(`index ${row.name}`, { ...row, kind: 'index', referenced: null });
    }

    for (const row of constraints) {
        keys.set(`constraint ${row.name}`, row);
    }

    return keys;
}


test('every index and key the lists and subtasks added begins with user_id, as do all others but the retention\'s across users', async (t) => {

    const database = await createTestDatabase();
    t.teardown(() => database.destroy());
    const { knex } = database.db;

    const after = await userScopedKeys(knex);
    await knex.migrate.down();
    const before = await userScopedKeys(knex);
    await knex.migrate.up();
    t.deepEqual(await userScopedKeys(knex), after, 'the migration goes down and up to the same keys');

    const added = [...after].filter(([name]) => !before.has(name));
    t.deepEqual(added.map(([name]) => name).sort(), [
        'constraint lists_pkey', 'constraint tasks_list_fkey', 'constraint tasks_parent_fkey',
        'index lists_pkey', 'index lists_user_position_idx', 'index lists_user_version_idx',
        'index tasks_user_list_idx', 'index tasks_user_parent_idx', 'index tasks_user_place_idx'
    ]);

    // What finds expired rows across users by their age: the trash's retention, the tombstones', the idempotency
    // keys' expiry. Everything else a request reads is one user's.
    const acrossUsers = ['index tasks_trashed_idx', 'index task_tombstones_deleted_idx', 'index idempotency_keys_expires_idx'];
    for (const [name, key] of after) {
        if (acrossUsers.includes(name)) {
            t.false(added.some(([each]) => each === name), `${name} is new and reads across users`);
            continue;
        }

        t.is(key.first, 'user_id', `${name} on ${key.table}: ${key.definition}`);
        if (key.kind === 'f') {
            t.is(key.referenced, 'user_id', `${name} references a row by more than its user's key: ${key.definition}`);
        }
    }

    t.deepEqual(acrossUsers.filter((name) => after.has(name)), acrossUsers, 'the exceptions are still there (or this list is out of date)');
});
