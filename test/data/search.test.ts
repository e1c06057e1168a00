import { fc, test as anyTest, testProp } from '@fast-check/ava';
import type { PropertyTestFn } from '@fast-check/ava';
import type { TestFn } from 'ava';

import { parseTaskLimits } from '../../src/config';
import type { Priority, SortOrder, Task, TaskPosition, TaskSort } from '../../src/common/tasks';
import type { Query } from '../../src/data/query';
import { positional } from '../../src/data/query';
import type { TaskListOptions, TaskPage, TaskStore } from '../../src/data/tasks';
import { buildListStatement, taskStore } from '../../src/data/tasks';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';


interface Context {
    database: TestDatabase;
    tasks: TaskStore;
    /** The user's tasks in each sort and order, read by plain lists. */
    everything: Map<string, Task[]>;
    /** The text of each statement sent while a search runs. */
    sent: string[];
}


const test = anyTest as TestFn<Context>;
const prop = testProp as PropertyTestFn<Context>;

const user = 'search-user';
const sorts: TaskSort[] = ['created_at', 'updated_at', 'due_date', 'priority', 'title'];
const orders: SortOrder[] = ['asc', 'desc'];
const priorities: Priority[] = ['low', 'medium', 'high'];

// 400 tasks: more than the walk's two first slices hold at any page size up to 30 (60 + 240 rows), so that every way
// of reading a page is taken. The words' frequencies span every kind of text: in every task (alpha), in most, in a
// tenth (gamma), in a few (delta: tasks 3, 150 and 260, none among the newest 50), in none (omega); punctuation and LIKE's own characters too.
const internals = {
    count: 400,
    words: ['alpha', 'beta', 'gamma', 'delta', 'Straße', '50%', 'under_score', 'back\\slash'],

    title(n: number): string {

        // Titles repeat, in two cases: the title sort has ties, broken by id.
        return `${n % 7 === 0 ? 'Beta' : 'beta'} ${n % 13}${n % 10 === 0 ? ' Gamma' : ''}`;
    },

    description(n: number): string | null {

        if (n % 11 === 0) {
            return null;
        }

        const parts = [`alpha ${'filler text '.repeat(n % 5 ? 3 : 200)}`];
        if ([3, 150, 260].includes(n)) {
            parts.push('a DELTA here');
        }

        if (n % 37 === 0) {
            parts.push('50% under_score back\\slash Straße');
        }

        return parts.join(' ');
    },

    /** The text searched for: the words, parts of them (one or two letters, where the index cannot help), and any. */
    search: fc.oneof(
        fc.constantFrom('alpha', 'ALPHA', 'beta', 'gamma', 'delta', 'Delta', 'omega', 'lph', 'a', 'e', 'z', 'qz', 'de', ' 1', '50%', '%', '_', 'under_', '\\', 'straße', 'ta h'),
        fc.string({ unit: fc.constantFrom('a', 'l', 'p', 'h', 'e', 't', 'd', ' ', '%', '_'), minLength: 1, maxLength: 4 })
    ),

    /** As the database compares: these texts are ASCII but for ß, which lower() keeps as is. */
    holds(task: Task, text: string): boolean {

        const needle = text.toLowerCase();
        return task.title.toLowerCase().includes(needle) || (task.description ?? '').toLowerCase().includes(needle);
    },

    /** Every page of a search, from the first, by its cursors. */
    async pages(tasks: TaskStore, options: TaskListOptions): Promise<TaskPage[]> {

        const pages: TaskPage[] = [];
        let after: TaskPosition | undefined;
        do {
            const page = await tasks.listTasksForUser(user, { ...options, after });
            pages.push(page);
            after = page.next ?? undefined;
        } while (after && pages.length <= internals.count);

        return pages;
    },

    /** The page the one list statement with the text's condition answers (how a search was read before). */
    async single(database: TestDatabase, options: TaskListOptions): Promise<string[]> {

        const list = buildListStatement(options);
        const { sql, bindings } = positional(list.statement, list.values(user, options));
        const { rows } = await database.db.knex.raw(sql, bindings as never[]);
        return rows.slice(0, options.limit).map((row: Task) => row.id);
    }
};


test.before(async (t) => {

    const database = await createTestDatabase();
    // The store's statements, each noted as it is sent.
    const sent: string[] = [];
    const query: Query = (statement, values) => {

        sent.push(statement.text);
        return database.db.query(statement, values);
    };

    const tasks = taskStore({ query, transaction: (work) => work(query) }, parseTaskLimits({}));
    const rows = Array.from({ length: internals.count }, (_, n) => ({
        user_id: user,
        title: internals.title(n),
        description: internals.description(n),
        completed: n % 3 === 0,
        priority: priorities[n % 3],
        due_date: n % 4 ? new Date(Date.UTC(2027, 0, 1 + (n % 50))).toISOString() : null,
        // Runs of equal timestamps: the sorts on them have ties, broken by id.
        created_at: new Date(Date.UTC(2026, 0, 1, 0, Math.floor(n / 3))).toISOString(),
        updated_at: new Date(Date.UTC(2026, 5, 1, 0, (n * 7) % internals.count)).toISOString()
    }));

    for (let n = 0; n < rows.length; n += 100) {
        await database.db.knex('tasks').insert(rows.slice(n, n + 100));
    }

    // Another user whose tasks hold every word: none of them may show up.
    await database.db.knex('tasks').insert(Array.from({ length: 50 }, (_, n) => ({
        user_id: 'other-user', title: `alpha delta ${n}`, description: internals.words.join(' ')
    })));
    await database.db.knex.raw('analyze tasks');

    const everything = new Map<string, Task[]>();
    for (const sort of sorts) {
        for (const order of orders) {
            const { tasks: all } = await tasks.listTasksForUser(user, { sort, order, limit: internals.count });
            everything.set(`${sort} ${order}`, all);
        }
    }

    t.context = { database, tasks, everything, sent };
});

test.after.always(async (t) => {

    await t.context.database?.destroy();
});


prop('a search pages through exactly the user\'s tasks that hold the text, in the list\'s order, as one statement did',
    [
        internals.search,
        fc.constantFrom(...sorts),
        fc.constantFrom(...orders),
        fc.integer({ min: 1, max: 30 }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.option(fc.subarray(priorities, { minLength: 1 }), { nil: undefined }),
        fc.option(fc.constantFrom('2027-01-20T00:00:00.000Z', '2027-02-15T00:00:00.000Z'), { nil: undefined })
    ],
    async (t, search, sort, order, limit, completed, wanted, dueBefore) => {

        const { database, tasks, everything } = t.context;
        const options: TaskListOptions = { search, sort, order, limit, completed, priorities: wanted, dueBefore };
        const expected = everything.get(`${sort} ${order}`)!
            .filter((task) => internals.holds(task, search))
            .filter((task) => completed === undefined || task.completed === completed)
            .filter((task) => !wanted || wanted.includes(task.priority))
            .filter((task) => !dueBefore || (task.due_date !== null && Date.parse(task.due_date) < Date.parse(dueBefore)));

        const pages = await internals.pages(tasks, options);
        t.deepEqual(pages.flatMap((page) => page.tasks), expected);
        t.deepEqual(pages.map((page) => page.tasks.length), pages.map((_, n) => Math.min(limit, expected.length - n * limit)));
        t.is(pages[pages.length - 1].next, null);

        // Page by page, the same tasks as the single statement after the same cursor.
        let after: TaskPosition | undefined;
        for (const page of pages) {
            t.deepEqual(page.tasks.map((task) => task.id), await internals.single(database, { ...options, after }));
            after = page.next ?? undefined;
        }
    },
    { numRuns: 60 });

// Serial: it counts the statements sent, which another test's would join.
test.serial('a rare text is read from the trigram index once the first slice held none; a common one by the walk alone', async (t) => {

    const { tasks, sent } = t.context;
    const statements = async (search: string) => {

        sent.length = 0;
        const page = await tasks.listTasksForUser(user, { search, limit: 5 });
        return { ids: page.tasks.length, statements: sent.map((sql) => (/offset 0/.test(sql) ? 'index' : 'walk')) };
    };

    t.deepEqual(await statements('delta'), { ids: 3, statements: ['walk', 'index'] });
    t.deepEqual(await statements('omega'), { ids: 0, statements: ['walk', 'index'] });
    t.deepEqual(await statements('alpha'), { ids: 5, statements: ['walk'] });
    // A tenth of the tasks: the first slice (50 rows) holds some, the second fills the page.
    t.deepEqual(await statements('gamma'), { ids: 5, statements: ['walk', 'walk'] });
    // No trigram in it: walked to the end, a bounded slice per statement.
    t.deepEqual(await statements('qz'), { ids: 0, statements: ['walk', 'walk', 'walk'] });
});

test('a task without a description is no match for a text its title lacks (found by the property above)', async (t) => {

    const { tasks, everything } = t.context;
    const expected = everything.get('due_date desc')!.filter((task) => internals.holds(task, 'aa'));
    t.deepEqual(expected, []);
    t.deepEqual((await internals.pages(tasks, { search: 'aa', sort: 'due_date', order: 'desc', limit: 1 })).flatMap((page) => page.tasks), []);
});

test('LIKE\'s own characters and a backslash are searched for as written', async (t) => {

    const { tasks } = t.context;
    for (const search of ['50%', '_score', 'back\\slash', '%', '_']) {
        const page = await tasks.listTasksForUser(user, { search, limit: 100 });
        t.true(page.tasks.length > 0, search);
        t.true(page.tasks.every((task) => internals.holds(task, search)), search);
    }

    t.deepEqual((await tasks.listTasksForUser(user, { search: '5_%', limit: 100 })).tasks, []);
});
