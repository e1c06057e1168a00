import anyTest from 'ava';
import type { Knex } from 'knex';
import type { TestFn } from 'ava';

import type { SortOrder, TaskSort } from '../../src/common/tasks';
import type { Statement } from '../../src/data/query';
import { positional } from '../../src/data/query';
import type { TaskListOptions } from '../../src/data/tasks';
import { buildListStatement } from '../../src/data/tasks';
import { changeStatements } from '../../src/data/tasks/changes';
import { taskStatements } from '../../src/data/tasks/statements';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';


interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Index Name'?: string;
    'Index Cond'?: string;
    Plans?: PlanNode[];
}


const test = anyTest as TestFn<TestDatabase>;

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

// user-7's first list, and a task of it with subtasks (the seed below makes them).
const seededList = '00000000-0000-4000-8000-000000000701';
const parent = '00000000-0000-4000-8000-000000000702';

const filters: [string, Partial<TaskListOptions>][] = [
    ['list_id', { listId: seededList }],
    ['list_id=inbox', { listId: null }],
    ['list_id&parent_id=none', { listId: seededList, parentId: null }],
    ['list_id&parent_id', { listId: seededList, parentId: parent }],
    ['parent_id', { parentId: parent }],
    ['no filter', {}],
    ['priorities', { priorities: ['high', 'low'] }],
    ['due_before', { dueBefore: '2027-01-01T00:00:00.000Z' }],
    ['due_after', { dueAfter: '2026-01-01T00:00:00.000Z' }],
    ['overdue', { overdue: true }],
    ['search', { search: 'task 1%' }],
    ['all of them', { priorities: ['medium'], dueBefore: '2030-01-01T00:00:00.000Z', dueAfter: '2020-01-01T00:00:00.000Z', overdue: true, search: 'x' }]
];

const after: Record<TaskSort, string | number | null> = {
    created_at: '2026-01-01T00:00:00.000000Z', updated_at: '2026-01-01T00:00:00.000000Z', due_date: null, priority: 2, title: 'task 5',
    position: '00000000-0000-0000-0000-000000000000/00000000-0000-0000-0000-000000000000/a5'
};

test.before(async (t) => {

    t.context = await createTestDatabase();

    // Enough users that one user's tasks are a small part of the table, as in production.
    await t.context.db.knex.raw(`
        insert into tasks (user_id, title, description, completed, priority, due_date)
        select 'user-' || u, 'Task ' || n, case when n % 3 = 0 then 'notes ' || n end, n % 4 = 0,
            (array['low', 'medium', 'high'])[1 + n % 3],
            case when n % 5 <> 0 then timestamptz '2026-01-01T00:00:00Z' + n * interval '1 day' end
        from generate_series(1, 200) as u cross join generate_series(1, 30) as n`);

    // Three lists each, two thirds of the tasks in them, and in each list a few tasks with subtasks; positions from
    // the trigger, as a seed's tasks get them.
    await t.context.db.knex.raw(`
        insert into lists (user_id, id, name, position, version)
        select 'user-' || u, case when u = 7 and l = 1 then ?::uuid else gen_random_uuid() end, 'List ' || l, position_key(l), l
        from generate_series(1, 200) as u cross join generate_series(1, 3) as l`, [seededList]);
    await t.context.db.knex.raw(`
        update tasks set list_id = lists.id from lists
        where lists.user_id = tasks.user_id and lists.name = 'List ' || (1 + substr(tasks.title, 6)::int % 3) and substr(tasks.title, 6)::int % 4 <> 0`);
    await t.context.db.knex.raw('update tasks set id = ?::uuid where user_id = \'user-7\' and title = \'Task 3\'', [parent]);
    await t.context.db.knex.raw(`
        update tasks as child set parent_id = above.id from tasks as above
        where above.user_id = child.user_id and above.list_id = child.list_id
            and substr(child.title, 6)::int between 13 and 30 and above.title = 'Task ' || (substr(child.title, 6)::int % 6 + 3)`);
    await t.context.db.knex.raw('analyze tasks');
    await t.context.db.knex.raw('analyze lists');
});

test.after.always(async (t) => {

    await t.context?.destroy();
});


function nodes(plan: PlanNode): PlanNode[] {

    return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}


test('every sort, order, status and filter is read from the sort\'s index in its order: no Sort node, no sequential scan', async (t) => {

    const { db } = t.context;
    await db.knex.transaction(async (trx) => {

        // Forbidden, not just discouraged: a plan that still sorts has no index giving the order (an expression
        // that differs from the index's by a character, say).
        await trx.raw('set local enable_sort = off');
        await trx.raw('set local enable_seqscan = off');

        for (const sort of sorts) {
            for (const order of orders) {
                for (const completed of [undefined, false, true]) {
                    for (const [name, filter] of filters) {
                        for (const position of [undefined, { key: after[sort], id: '00000000-0000-4000-8000-000000000000' }]) {
                            const options: TaskListOptions = { sort, order, completed, ...filter, limit: 20, after: position };
                            const list = buildListStatement(options);
                            const { sql, bindings } = positional(list.statement, list.values('user-7', options));
                            const { rows } = await trx.raw(`explain (format json) ${sql}`, bindings as Knex.RawBinding[]);
                            const plan = nodes(rows[0]['QUERY PLAN'][0].Plan);
                            const described = `${sort} ${order} completed=${completed} ${name}${position ? ' after a cursor' : ''}: ${plan.map((node) => node['Node Type']).join(' > ')}`;

                            t.false(plan.some((node) => /Sort|Seq Scan/.test(node['Node Type'])), described);
                            // With a status, either of the sort's indexes gives the order; the planner picks by cost.
                            const scan = plan.find((node) => /^Index (Only )?Scan$/.test(node['Node Type']) && node['Relation Name'] === 'tasks');
                            const status = completed !== undefined || filter.overdue ? '(completed_)?' : '';
                            t.regex(scan?.['Index Name'] ?? 'none', new RegExp(`^tasks_user_${status}${indexOf[sort][order]}_idx$`), described);
                            // In the user's order a list is one range of the index: read as a range, not filtered.
                            if (sort === 'position' && filter.listId !== undefined) {
                                t.regex(scan?.['Index Cond'] ?? '', />= .*< /, `${described}: ${scan?.['Index Cond']}`);
                            }
                        }
                    }
                }
            }
        }
    });
});

test('the change feed and the trash read their indexes in their order: no sequential scan, no Sort of a user\'s rows', async (t) => {

    const { db } = t.context;
    await db.knex.raw('update tasks set deleted_at = now() where user_id = \'user-7\' and title like \'Task 1%\'');
    await db.knex.raw('analyze tasks');

    await db.knex.transaction(async (trx) => {

        // As for the list: a plan that must sort has no index giving the order.
        await trx.raw('set local enable_seqscan = off');
        await trx.raw('set local enable_sort = off');
        const cases: [string, Statement, unknown[], RegExp[]][] = [
            ['the feed after a version', changeStatements.after, ['user-7', 3, 101], [/^tasks_user_version_idx$/, /^task_tombstones_user_version_idx$/]],
            ['the feed from the start', changeStatements.start, ['user-7', 0, 101], [/^tasks_user_version_idx$/]],
            ['the trash', taskStatements.trash, ['user-7', 30, 101], [/^tasks_user_trash_idx$/]],
            ['the trash after a cursor', taskStatements.trashAfter, ['user-7', 30, 101, 20], [/^tasks_user_trash_idx$/]]
        ];

        for (const [name, statement, values, indexes] of cases) {
            const { sql, bindings } = positional(statement, values);
            const { rows } = await trx.raw(`explain (format json) ${sql}`, bindings as Knex.RawBinding[]);
            const plan = nodes(rows[0]['QUERY PLAN'][0].Plan);
            const described = `${name}: ${plan.map((node) => `${node['Node Type']}${node['Index Name'] ? `(${node['Index Name']})` : ''}`).join(' > ')}`;
            t.false(plan.some((node) => /Seq Scan/.test(node['Node Type'])), described);
            t.false(plan.some((node) => node['Node Type'] === 'Sort'), described);
            for (const index of indexes) {
                t.true(plan.some((node) => index.test(node['Index Name'] ?? '')), `${described} reads ${index}`);
            }
        }
    });
});
