import type { Knex } from 'knex';


/**
 * The search (q: a case-insensitive substring of the title or the description) reads the trigrams of the text it
 * looks for in one GIN index of the user's titles and descriptions, instead of every one of the user's descriptions:
 * pg_trgm gives the trigram operator classes, btree_gin the user_id column in front of them, so an index scan reads
 * only that user's entries. Both extensions are trusted (a database owner may create them without superuser).
 */
export async function up(knex: Knex): Promise<void> {

    await knex.raw('create extension if not exists pg_trgm');
    await knex.raw('create extension if not exists btree_gin');
    // A write adds its trigrams (a thousand and more for a long description) to a pending list, merged into the index
    // in bulk; put into the index one by one they made a toggle of such a task several times slower. Every search
    // reads the pending list through, so it is kept to 1 MB (not 4): the write that fills it merges it (a vacuum does
    // too on PostgreSQL; PGlite has no autovacuum).
    await knex.raw('create index tasks_user_text_trgm_idx on tasks using gin (user_id, title gin_trgm_ops, description gin_trgm_ops) with (fastupdate = on, gin_pending_list_limit = 1024)');
}


export async function down(knex: Knex): Promise<void> {

    await knex.raw('drop index tasks_user_text_trgm_idx');
    await knex.raw('drop extension if exists btree_gin');
    await knex.raw('drop extension if exists pg_trgm');
}
