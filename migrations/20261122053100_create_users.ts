import type { Knex } from 'knex';


// The operators' directory of users. Tokens come from an outside issuer, so tasks.user_id does not reference it.
export async function up(knex: Knex): Promise<void> {

    await knex.raw(`
        create table users (
            id text primary key,
            email text not null,
            name text,
            created_at timestamptz not null default now(),
            constraint users_email_key unique (email),
            constraint users_email_format check (email like '_%@_%')
        )
    `);
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop table users');
}
