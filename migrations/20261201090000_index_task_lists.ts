import type { Knex } from 'knex';


/**
 * The list's sorts and filters, each read from an index in its order: a page never sorts a user's tasks, and
 * the filters are checked on the user's rows in that order (a user holds a bounded number). The status too, but
 * for the default sort, which has an index with it (the first migration's): one per sort and status would write
 * every task into twice as many indexes for pages that are as quick without. The expressions here are the ones
 * src/data/tasks.ts orders by, character for character: the planner only uses an expression index for the same
 * expression.
 */
const internals = {
    indexes: {
        updated: 'updated_at, id',
        // Undated tasks last in both orders: +infinity ranks them after every date ascending, -infinity after every
        // date descending (no stored due date is infinite: the API takes years 0001 to 9999).
        due_asc: 'coalesce(due_date, \'infinity\'::timestamptz), id',
        due_desc: 'coalesce(due_date, \'-infinity\'::timestamptz) desc, id desc',
        priority: '(case priority when \'low\' then 1 when \'medium\' then 2 when \'high\' then 3 end), id',
        title: 'lower(title), id'
    } as Record<string, string>
};


export async function up(knex: Knex): Promise<void> {

    for (const [name, columns] of Object.entries(internals.indexes)) {
        await knex.raw(`create index tasks_user_${name}_idx on tasks (user_id, ${columns})`);
    }
}


export async function down(knex: Knex): Promise<void> {

    for (const name of Object.keys(internals.indexes)) {
        await knex.raw(`drop index tasks_user_${name}_idx`);
    }
}
