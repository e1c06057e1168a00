import type { Knex } from 'knex';


/**
 * Lists, order and subtasks.
 *
 * - A list belongs to a user; a task is in one of its user's lists (list_id) or in the inbox (null).
 * - A task may be a subtask of another task of its user in the same list (parent_id).
 * - Tasks and lists have a position: a key of fractional indexing that sorts byte-wise (collate "C"), unique among
 *   siblings: the live tasks of the same list and parent, or the user's lists. The inbox and the top level are
 *   written as the zero UUID in a task's place, so that they are one group each and sort first.
 * - A list's writes take the user's versions as the tasks' do, and a deleted list leaves a tombstone (kind 'list')
 *   for the change feed.
 *
 * Every new index begins with user_id.
 */
const internals = {
    // A task's place among all of its user's: list, parent, position, as one text that sorts as the three do (a UUID's
    // text is always 36 characters, and '/' sorts before every digit and letter). The list's sort=position reads it
    // (src/data/tasks/list-query.ts writes the same text), and it makes positions unique among siblings.
    place: '(coalesce(list_id, \'00000000-0000-0000-0000-000000000000\'::uuid)::text || \'/\' || coalesce(parent_id, \'00000000-0000-0000-0000-000000000000\'::uuid)::text || \'/\' || position) collate "C"'
};


export async function up(knex: Knex): Promise<void> {

    // The key of the integer n >= 0 in fractional indexing's form: a head letter that says how many base-62 digits
    // follow ('a': one), then the digits. Seeds and tasks written without a position take one from their version.
    await knex.raw(`
        create function position_key(n bigint) returns text
        language plpgsql immutable strict as $$
        declare
            digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
            body text := '';
            rest bigint := n;
        begin
            loop
                body := substr(digits, (rest % 62)::int + 1, 1) || body;
                rest := rest / 62;
                exit when rest = 0;
            end loop;
            return chr(ascii('a') + length(body) - 1) || body;
        end
        $$
    `);

    await knex.raw(`
        create table lists (
            id uuid not null default gen_random_uuid(),
            user_id text not null,
            name text not null,
            position text collate "C" not null,
            version bigint not null,
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now(),
            constraint lists_pkey primary key (user_id, id),
            constraint lists_name_length check (char_length(name) between 1 and 100 and btrim(name) <> ''),
            constraint lists_position_length check (char_length(position) between 1 and 64)
        )
    `);
    await knex.raw('create unique index lists_user_position_idx on lists (user_id, position)');
    await knex.raw('create unique index lists_user_version_idx on lists (user_id, version)');

    await knex.raw('alter table task_tombstones add column kind text not null default \'task\', add constraint task_tombstones_kind check (kind in (\'task\', \'list\'))');

    await knex.raw(`
        alter table tasks
            add column list_id uuid,
            add column parent_id uuid,
            add column position text collate "C",
            add constraint tasks_list_fkey foreign key (user_id, list_id) references lists (user_id, id) on delete set null (list_id),
            add constraint tasks_parent_fkey foreign key (user_id, parent_id) references tasks (user_id, id) on delete set null (parent_id),
            add constraint tasks_not_own_parent check (parent_id <> id)
    `);

    // The tasks there are go in their user's inbox, newest first, as new tasks go.
    await knex.raw(`
        update tasks set position = position_key(numbered.n)
        from (select user_id, id, row_number() over (partition by user_id order by created_at desc, id desc) - 1 as n from tasks) as numbered
        where tasks.user_id = numbered.user_id and tasks.id = numbered.id`);

    // A task inserted without a position (a seed file, an operator's SQL) takes its version's key: after the tasks
    // placed before it. Named to run after tasks_assign_version, which gives the version.
    await knex.raw(`
        create function tasks_place() returns trigger
        language plpgsql as $$
        begin
            new.position := position_key(new.version);
            return new;
        end
        $$
    `);
    await knex.raw('create trigger tasks_place before insert on tasks for each row when (new.position is null) execute function tasks_place()');
    await knex.raw('alter table tasks alter column position set not null, add constraint tasks_position_length check (char_length(position) between 1 and 64)');

    // Siblings' order (sort=position, a list's tasks, a task's children), and their positions unique.
    await knex.raw(`create unique index tasks_user_place_idx on tasks (user_id, (${internals.place})) where deleted_at is null`);
    // What the keys' actions and the subtree walks read: a list's tasks and a task's children, trashed ones too.
    await knex.raw('create index tasks_user_list_idx on tasks (user_id, list_id) where list_id is not null');
    await knex.raw('create index tasks_user_parent_idx on tasks (user_id, parent_id) where parent_id is not null');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop index tasks_user_parent_idx');
    await knex.raw('drop index tasks_user_list_idx');
    await knex.raw('drop index tasks_user_place_idx');
    await knex.raw('drop trigger tasks_place on tasks');
    await knex.raw('drop function tasks_place()');
    await knex.raw('alter table tasks drop column position, drop column parent_id, drop column list_id');
    await knex.raw('delete from task_tombstones where kind = \'list\'');
    await knex.raw('alter table task_tombstones drop column kind');
    await knex.raw('drop table lists');
    await knex.raw('drop function position_key(bigint)');
}
