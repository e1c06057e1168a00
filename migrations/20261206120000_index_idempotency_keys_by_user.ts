import type { Knex } from 'knex';


// A user's keys newest first: recording a key forgets that user's oldest past IDEMPOTENCY_KEYS_PER_USER.
export async function up(knex: Knex): Promise<void> {

    await knex.raw('create index idempotency_keys_user_expires_idx on idempotency_keys (user_id, expires_at, key)');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop index idempotency_keys_user_expires_idx');
}
