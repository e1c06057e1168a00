import type { Knex } from 'knex';


// What a create with an Idempotency-Key answered, kept for the key's lifetime. task_id does not reference tasks:
// deleting the task must not free the key, or a late retry would bring the deleted task back.
export async function up(knex: Knex): Promise<void> {

    await knex.raw(`
        create table idempotency_keys (
            user_id text not null,
            key text not null,
            fingerprint text not null,
            task_id uuid not null,
            response json not null,
            created_at timestamptz not null default now(),
            expires_at timestamptz not null,
            constraint idempotency_keys_pkey primary key (user_id, key),
            constraint idempotency_keys_key_length check (char_length(key) between 1 and 255)
        )
    `);

    // Expired keys are removed oldest first by later creates.
    await knex.raw('create index idempotency_keys_expires_idx on idempotency_keys (expires_at)');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop table idempotency_keys');
}
