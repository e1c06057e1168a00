import type { Knex } from 'knex';


// Every unique index on tasks begins with user_id, so the table can be distributed by user without a schema change.
export async function up(knex: Knex): Promise<void> {

    await knex.raw(`
        create table tasks (
            id uuid not null default gen_random_uuid(),
            user_id text not null,
            title text not null,
            description text,
            completed boolean not null default false,
            priority text not null default 'medium',
            due_date timestamptz,
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now(),
            constraint tasks_pkey primary key (user_id, id),
            constraint tasks_title_length check (char_length(title) between 1 and 200 and btrim(title) <> ''),
            constraint tasks_description_length check (char_length(description) <= 4000),
            constraint tasks_priority_value check (priority in ('low', 'medium', 'high'))
        )
    `);

    // The list query: a user's tasks newest first, optionally only pending or only completed ones.
    await knex.raw('create index tasks_user_created_idx on tasks (user_id, created_at desc, id desc)');
    await knex.raw('create index tasks_user_completed_created_idx on tasks (user_id, completed, created_at desc, id desc)');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop table tasks');
}
