import anyTest from 'ava';
import type { TestFn } from 'ava';

import { parseTaskLimits } from '../../src/config';
import type { SortOrder, TaskSort } from '../../src/common/tasks';
import type { Statement } from '../../src/data/query';
import { positional } from '../../src/data/query';
import type { TaskListOptions } from '../../src/data/tasks';
import { buildSearchStatements, listShape, taskStore } from '../../src/data/tasks';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';


interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Index Name'?: string;
    'Actual Rows'?: number;
    Plans?: PlanNode[];
}


const test = anyTest as TestFn<TestDatabase>;

const user = 'user-heavy';
const sorts: TaskSort[] = ['created_at', 'updated_at', 'due_date', 'priority', 'title', 'position'];
const orders: SortOrder[] = ['asc', 'desc'];
const indexOf: Record<TaskSort, Record<SortOrder, string>> = {
    created_at: { asc: 'created', desc: 'created' },
    updated_at: { asc: 'updated', desc: 'updated' },
    due_date: { asc: 'due_asc', desc: 'due_desc' },
    priority: { asc: 'priority', desc: 'priority' },
    title: { asc: 'title', desc: 'title' },
    position: { asc: 'place', desc: 'place' }
};

const after: Record<TaskSort, string | number | null> = {
    created_at: '2026-01-01T00:00:00.000000Z', updated_at: '2030-01-01T00:00:00.000000Z', due_date: null, priority: 2, title: 'task 5',
    position: '00000000-0000-0000-0000-000000000000/00000000-0000-0000-0000-000000000000/a5'
};

const internals = {
    nodes(plan: PlanNode): PlanNode[] {

        return [plan, ...(plan.Plans ?? []).flatMap(internals.nodes)];
    },

    describe: (plan: PlanNode[]) => plan.map((node) => (node['Index Name'] ? `${node['Node Type']} on ${node['Index Name']}` : node['Node Type'])).join(' > '),

    /** The plan of a statement, as planned for these values (a custom plan), or for any values (a generic one). */
    async plan(db: TestDatabase['db'], statement: Statement, bindings: unknown[], generic: boolean): Promise<PlanNode[]> {

        if (!generic) {
            const { sql, bindings: values } = positional(statement, bindings);
            const { rows } = await db.knex.raw(`explain (analyze, format json) ${sql}`, values as never[]);
            return internals.nodes(rows[0]['QUERY PLAN'][0].Plan);
        }

        const numbered = statement.text;
        return await db.knex.transaction(async (trx) => {

            await trx.raw('set local plan_cache_mode = force_generic_plan');
            await trx.raw(`prepare search_plan as ${numbered}`);
            try {
                const values = bindings.map((value) => (value === null ? 'null' : typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, '\'\'')}'`));
                const { rows } = await trx.raw(`explain (analyze, format json) execute search_plan(${values.join(', ')})`);
                return internals.nodes(rows[0]['QUERY PLAN'][0].Plan);
            }
            finally {
                await trx.raw('deallocate search_plan');
            }
        });
    }
};


test.before(async (t) => {

    t.context = await createTestDatabase();

    // Many users with a few tasks each, and one with many whose descriptions are long: the shape the search is for.
    // One word is in a handful of that user's tasks (quartz), and in many of the others'.
    await t.context.db.knex.raw(`
        insert into tasks (user_id, title, description, priority, due_date)
        select 'user-' || u, 'Task ' || n, case when n % 3 = 0 then 'notes quartz ' || n end,
            (array['low', 'medium', 'high'])[1 + n % 3],
            case when n % 5 <> 0 then timestamptz '2026-01-01T00:00:00Z' + n * interval '1 day' end
        from generate_series(1, 2000) as u cross join generate_series(1, 10) as n`);
    await t.context.db.knex.raw(`
        insert into tasks (user_id, title, description, completed, priority, due_date, created_at, updated_at)
        select ?, 'Task ' || n, repeat(md5(n::text) || ' lorem ipsum ', 40) || case when n % 500 = 7 then ' quartz' else '' end,
            n % 4 = 0, (array['low', 'medium', 'high'])[1 + n % 3],
            case when n % 5 <> 0 then timestamptz '2026-01-01T00:00:00Z' + n * interval '1 hour' end,
            timestamptz '2025-01-01T00:00:00Z' + n * interval '1 minute', timestamptz '2025-01-01T00:00:00Z' + n * interval '1 minute'
        from generate_series(1, 3000) as n`, [user]);
    await t.context.db.knex.raw('analyze tasks');
});

test.after.always(async (t) => {

    await t.context?.destroy();
});


// Planned with its values, as statements are sent now (unnamed). A generic plan (a named prepared statement, after
// five runs) takes every user for the average one, a few tasks, and may read such a user's tasks by a sort's index
// instead: the statement must keep being planned with its values.
test('a rare word is read from the trigram index, for the user\'s entries only, whatever the sort', async (t) => {

    const { db } = t.context;
    const tasks = taskStore(db, parseTaskLimits({}));
    for (const sort of sorts) {
        for (const order of orders) {
            // Where the search reads from the index: after the rows of the user's that its walk read.
            const { next } = await tasks.listTasksForUser(user, { sort, order, limit: 50 });
            const options: TaskListOptions = { search: 'quartz', sort, order, limit: 20, after: next! };
            const { matches } = buildSearchStatements(options, listShape(options));
            const plan = await internals.plan(db, matches.statement, matches.values(user, options, 0, 21), false);
            const described = `${sort} ${order}: ${internals.describe(plan)}`;

            t.false(plan.some((node) => node['Node Type'] === 'Seq Scan'), described);
            const scans = plan.filter((node) => node['Node Type'] === 'Bitmap Index Scan');
            t.true(scans.length > 0 && scans.every((node) => node['Index Name'] === 'tasks_user_text_trgm_idx'), described);
            // The user's six tasks with the word at most, not the many other users' (user_id is in the index).
            t.true(scans.every((node) => node['Actual Rows']! <= 6), described);
        }
    }
});

test('the walk reads the sort\'s index in its order, with or without a cursor, and stops at the page: no Sort node', async (t) => {

    const { db } = t.context;
    for (const sort of sorts) {
        for (const order of orders) {
            for (const position of [undefined, { key: after[sort], id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' }]) {
                for (const generic of [false, true]) {
                    const options: TaskListOptions = { search: 'lorem', sort, order, limit: 20, after: position };
                    const { walk, walkOn } = buildSearchStatements(options, listShape(options));
                    const search = position ? walkOn : walk;
                    const plan = await internals.plan(db, search.statement, search.values(user, options, 50, 21), generic);
                    const described = `${sort} ${order}${position ? ' after a cursor' : ''}${generic ? ' (generic plan)' : ''}: ${internals.describe(plan)}`;

                    t.false(plan.some((node) => /Sort|Seq Scan|Bitmap/.test(node['Node Type'])), described);
                    const scan = plan.find((node) => /^Index (Only )?Scan$/.test(node['Node Type']));
                    t.is(scan?.['Index Name'], `tasks_user_${indexOf[sort][order]}_idx`, described);
                    // Every task of the user holds the word: the page is read, and no more (the row after it tells
                    // whether more follow).
                    t.true(scan!['Actual Rows']! <= 22, described);
                }
            }
        }
    }
});
