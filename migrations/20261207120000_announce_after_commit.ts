import type { Knex } from 'knex';


/**
 * A NOTIFY in the writing transaction serializes commits across the whole cluster: PostgreSQL takes one lock before
 * a notifying transaction commits and holds it until its commit record is on disk, so concurrent writes that notify
 * wait for each other's WAL flushes one by one instead of sharing them. The service's own writes therefore take
 * their versions with tasks_take_versions, which marks their transaction as announced by its writer: the trigger of
 * 20261207110000 then sends nothing, and the service notifies once the write has committed, from a statement of its
 * own that does not wait for a flush (src/data/change-announcer.ts). Every other write (a seed, an operator's SQL)
 * still notifies from the trigger, as before.
 */
export async function up(knex: Knex): Promise<void> {

    await knex.raw(`
        create function tasks_take_versions(owner text, count bigint) returns bigint
        language sql volatile as $$
            select set_config('todo_api.writer_announces', 'on', true);
            select tasks_bump_version(owner, count);
        $$
    `);
    await knex.raw(`
        create or replace function user_versions_notify() returns trigger
        language plpgsql as $$
        begin
            if current_setting('todo_api.writer_announces', true) is distinct from 'on' then
                perform pg_notify('todo_api_changes', new.user_id || ':' || new.version);
            end if;

            return null;
        end
        $$
    `);
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw(`
        create or replace function user_versions_notify() returns trigger
        language plpgsql as $$
        begin
            perform pg_notify('todo_api_changes', new.user_id || ':' || new.version);
            return null;
        end
        $$
    `);
    await knex.raw('drop function tasks_take_versions(text, bigint)');
}
