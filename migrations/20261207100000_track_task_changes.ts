import type { Knex } from 'knex';


/**
 * The change feed and the trash.
 *
 * Each user has a version: a counter that every write to the user's tasks bumps, in the write's own statement,
 * through tasks_bump_version(). The bump locks the user's row in user_versions until the write commits, so a user's
 * writes take their versions in the order they commit: a reader whose snapshot holds version v holds every version
 * below it. A task keeps the version of its last change; a trashed task has deleted_at set, and a task removed from
 * the trash for good leaves a tombstone with that version, so clients that synced before still learn of the delete.
 * Tombstones (and trashed tasks) older than the retention are removed, and the user's `forgotten` version says that
 * cursors below it can no longer be served.
 */
const internals = {
    // The list's indexes (the first migration's and 20261201090000's), now over the live tasks only.
    indexes: {
        created: 'created_at desc, id desc',
        completed_created: 'completed, created_at desc, id desc',
        updated: 'updated_at, id',
        due_asc: 'coalesce(due_date, \'infinity\'::timestamptz), id',
        due_desc: 'coalesce(due_date, \'-infinity\'::timestamptz) desc, id desc',
        priority: '(case priority when \'low\' then 1 when \'medium\' then 2 when \'high\' then 3 end), id',
        title: 'lower(title), id'
    } as Record<string, string>,

    async rebuildListIndexes(knex: Knex, where: string): Promise<void> {

        for (const [name, columns] of Object.entries(internals.indexes)) {
            await knex.raw(`drop index tasks_user_${name}_idx`);
            await knex.raw(`create index tasks_user_${name}_idx on tasks (user_id, ${columns})${where}`);
        }
    }
};


export async function up(knex: Knex): Promise<void> {

    await knex.raw(`
        create table user_versions (
            user_id text primary key,
            version bigint not null,
            forgotten bigint not null default 0
        )
    `);

    // Takes `count` versions for the user (count > 0) and answers the last; the rows written take the ones up to it.
    // Every write of tasks calls it before touching a task, so locks are always taken in the same order.
    await knex.raw(`
        create function tasks_bump_version(owner text, count bigint) returns bigint
        language sql volatile as $$
            insert into user_versions as v (user_id, version) values (owner, count)
            on conflict (user_id) do update set version = v.version + excluded.version
            returning version
        $$
    `);

    await knex.raw('alter table tasks add column version bigint, add column deleted_at timestamptz');

    // The tasks there are take the versions 1..N of their user, oldest first.
    await knex.raw(`
        update tasks set version = numbered.n
        from (select user_id, id, row_number() over (partition by user_id order by created_at, id) as n from tasks) as numbered
        where tasks.user_id = numbered.user_id and tasks.id = numbered.id`);
    await knex.raw('insert into user_versions (user_id, version) select user_id, count(*) from tasks group by user_id');
    await knex.raw('alter table tasks alter column version set not null');

    // A task inserted without a version (a seed file, an operator's SQL) takes the next one of its user.
    await knex.raw(`
        create function tasks_assign_version() returns trigger
        language plpgsql as $$
        begin
            new.version := tasks_bump_version(new.user_id, 1);
            return new;
        end
        $$
    `);
    await knex.raw('create trigger tasks_assign_version before insert on tasks for each row when (new.version is null) execute function tasks_assign_version()');

    await knex.raw(`
        create table task_tombstones (
            user_id text not null,
            id uuid not null,
            version bigint not null,
            deleted_at timestamptz not null,
            constraint task_tombstones_pkey primary key (user_id, id)
        )
    `);

    // The feed: a user's changes in version order (one version names one change).
    await knex.raw('create unique index tasks_user_version_idx on tasks (user_id, version)');
    await knex.raw('create unique index task_tombstones_user_version_idx on task_tombstones (user_id, version)');
    // The trash, most recently deleted first; and what is past the retention, oldest first, across users.
    await knex.raw('create index tasks_user_trash_idx on tasks (user_id, version) where deleted_at is not null');
    await knex.raw('create index tasks_trashed_idx on tasks (deleted_at) where deleted_at is not null');
    await knex.raw('create index task_tombstones_deleted_idx on task_tombstones (deleted_at)');

    await internals.rebuildListIndexes(knex, ' where deleted_at is null');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('delete from tasks where deleted_at is not null');
    await internals.rebuildListIndexes(knex, '');
    await knex.raw('drop table task_tombstones');
    await knex.raw('drop trigger tasks_assign_version on tasks');
    await knex.raw('drop function tasks_assign_version()');
    await knex.raw('drop index tasks_user_trash_idx');
    await knex.raw('drop index tasks_trashed_idx');
    await knex.raw('drop index tasks_user_version_idx');
    await knex.raw('alter table tasks drop column version, drop column deleted_at');
    await knex.raw('drop function tasks_bump_version(text, bigint)');
    await knex.raw('drop table user_versions');
}
