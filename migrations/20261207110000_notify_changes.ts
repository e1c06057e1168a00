import type { Knex } from 'knex';


/**
 * Every new version of a user (every write of tasks, whatever path made it: the API, a seed, todo-admin, an
 * operator's SQL) notifies `todo_api_changes` with `<user id>:<version>`, delivered when the write commits. The
 * live streams listen on it and read the feed for what changed; the notification says only whose and how far.
 */
export async function up(knex: Knex): Promise<void> {

    await knex.raw(`
        create function user_versions_notify() returns trigger
        language plpgsql as $$
        begin
            perform pg_notify('todo_api_changes', new.user_id || ':' || new.version);
            return null;
        end
        $$
    `);
    await knex.raw('create trigger user_versions_notify_insert after insert on user_versions for each row execute function user_versions_notify()');
    await knex.raw('create trigger user_versions_notify_update after update on user_versions for each row when (new.version <> old.version) execute function user_versions_notify()');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop trigger user_versions_notify_update on user_versions');
    await knex.raw('drop trigger user_versions_notify_insert on user_versions');
    await knex.raw('drop function user_versions_notify()');
}
