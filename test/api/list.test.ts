import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';

import type { SortOrder, Task, TaskSort } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `lister-${Crypto.randomUUID()}`;

const sorts: TaskSort[] = ['created_at', 'updated_at', 'due_date', 'priority', 'title'];
const orders: SortOrder[] = ['asc', 'desc'];
const rank = { low: 1, medium: 2, high: 3 };

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


/** The model of the list's order: the sort key, undated last in either order, ties by id. */
function compare(sort: TaskSort, order: SortOrder) {

    const dir = order === 'asc' ? 1 : -1;
    return (a: Task, b: Task): number => {

        if (sort === 'due_date' && (a.due_date === null) !== (b.due_date === null)) {
            return a.due_date === null ? 1 : -1;
        }

        const [ka, kb] = [keyOf(a, sort), keyOf(b, sort)];
        if (ka !== kb) {
            return (ka! < kb! ? -1 : 1) * dir;
        }

        return (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * dir;
    };
}


function keyOf(task: Task, sort: TaskSort): string | number | null {

    switch (sort) {
        case 'priority':
            return rank[task.priority];
        case 'title':
            return task.title.toLowerCase();          // The titles here are ASCII: as the database lowers them.
        default:
            return task[sort];
    }
}


/** Every page of a list, following Link; the ids and sizes seen. */
async function walk(t: ExecutionContext, api: TestApi, user: string, firstUrl: string, between?: (page: number) => Promise<void>) {

    const seen: Task[] = [];
    let url: string | null = firstUrl;
    for (let page = 0; url; ++page) {
        const res = await api.request({ method: 'GET', url, as: user });
        t.is(res.statusCode, 200, url);
        seen.push(...res.result as Task[]);

        const link = res.headers.link as string | undefined;
        url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : null;
        t.true(page < 200, 'paging ends');
        if (url && between) {
            await between(page);
        }
    }

    return seen;
}


async function storedTasks(api: TestApi, user: string): Promise<Task[]> {

    const { rows } = await api.database.db.knex.raw('select id from tasks where user_id = ?', [user]);
    return Promise.all(rows.map(async (row: { id: string }) => (await api.tasks.getTaskForUser(user, row.id))!));
}


/**
 * 40 tasks with ties in every sort key: created_at in threes, updated_at in twos, due dates shared (some past, some
 * future, some none), titles that differ only in case, every priority, some completed.
 */
async function seedVaried(api: TestApi, user: string): Promise<Task[]> {

    await api.database.db.knex.raw(`
        insert into tasks (user_id, title, description, priority, completed, due_date, created_at, updated_at)
        select ?,
            (array['apple', 'Apple', 'banana2', 'Banana10', 'cherry', 'CHERRY', 'date', 'elderberry'])[1 + n % 8],
            case when n % 5 = 0 then 'Plan ' || n when n % 7 = 0 then null else 'nothing special' end,
            (array['low', 'medium', 'high'])[1 + n % 3],
            n % 4 = 1,
            (array[null, '2020-03-01T10:00:00Z', '2099-01-01T00:00:00Z', '2024-06-30T12:00:00Z', null, '2099-01-01T00:00:00Z', '2031-05-05T05:05:05Z'])[1 + n % 7]::timestamptz,
            timestamptz '2026-01-01T00:00:00Z' + (n / 3) * interval '1 minute',
            timestamptz '2026-02-01T00:00:00Z' + (n / 2) * interval '1 minute'
        from generate_series(0, 39) as n`, [user]);

    return storedTasks(api, user);
}


test('the default list is newest first; each sort has its natural default order', async (t) => {

    const api = t.context;
    const user = newUser();
    const tasks = await seedVaried(api, user);

    const defaults: [string, TaskSort, SortOrder][] = [
        ['', 'created_at', 'desc'], ['sort=created_at', 'created_at', 'desc'], ['sort=updated_at', 'updated_at', 'desc'],
        ['sort=priority', 'priority', 'desc'], ['sort=due_date', 'due_date', 'asc'], ['sort=title', 'title', 'asc']
    ];

    for (const [query, sort, order] of defaults) {
        const res = await api.request({ method: 'GET', url: `/api/tasks?${query}`, as: user });
        t.deepEqual((res.result as Task[]).map((task) => task.id), [...tasks].sort(compare(sort, order)).map((task) => task.id), query || 'no query');
    }
});

const filterSets: [string, (task: Task) => boolean][] = [
    ['', () => true],
    ['status=pending', (task) => !task.completed],
    ['completed=true', (task) => task.completed],
    ['priority=high', (task) => task.priority === 'high'],
    ['priority=high&priority=low', (task) => task.priority !== 'medium'],
    ['due_before=2031-05-05T05:05:05Z', (task) => task.due_date !== null && task.due_date < '2031-05-05T05:05:05'],
    ['due_after=2024-06-30T12:00:00Z', (task) => task.due_date !== null && task.due_date > '2024-06-30T12:00:00.000000Z'],
    ['due_after=2020-01-01&due_before=2099-01-01T00:00:00Z', (task) => task.due_date !== null && task.due_date > '2020-01-01' && task.due_date < '2099-01-01'],
    ['overdue=true', (task) => !task.completed && task.due_date !== null && Date.parse(task.due_date) < Date.now()],
    ['overdue=false', () => true],
    ['q=PLAN', (task) => `${task.title}\n${task.description ?? ''}`.toLowerCase().includes('plan')],
    ['q=an', (task) => `${task.title}\n${task.description ?? ''}`.toLowerCase().includes('an')],
    ['q=', () => true],
    ['q=%20%20', () => true],
    ['status=pending&priority=medium&priority=high&due_before=2099-12-31&q=e', (task) => {

        return !task.completed && task.priority !== 'low' && task.due_date !== null && task.due_date < '2099-12-31' &&
            `${task.title}\n${task.description ?? ''}`.toLowerCase().includes('e');
    }],
    ['status=completed&overdue=true', () => false]
];

test('every sort, both orders, every filter and some combinations: paged 4 at a time, exactly the model\'s list', async (t) => {

    const api = t.context;
    const user = newUser();
    const tasks = await seedVaried(api, user);

    for (const sort of sorts) {
        for (const order of orders) {
            for (const [filters, keep] of filterSets) {
                const url = `/api/tasks?sort=${sort}&order=${order}&limit=4${filters ? `&${filters}` : ''}`;
                const seen = await walk(t, api, user, url);
                const expected = tasks.filter(keep).sort(compare(sort, order));
                t.deepEqual(seen.map((task) => task.id), expected.map((task) => task.id), url);
            }
        }
    }
});

test('the filters have something to find and something to leave out in the seeded tasks', async (t) => {

    // Guards the test above: a filter that keeps everything or nothing would prove little.
    const api = t.context;
    const tasks = await seedVaried(api, newUser());
    for (const [filters, keep] of filterSets.filter(([candidateFilters]) => !['', 'overdue=false', 'q=', 'q=%20%20', 'status=completed&overdue=true'].includes(candidateFilters))) {
        const kept = tasks.filter(keep).length;
        t.true(kept > 0 && kept < tasks.length, `${filters}: ${kept} of ${tasks.length}`);
    }
});

test('search ignores case, looks in title and description, and takes %, _ and \\ literally', async (t) => {

    const api = t.context;
    const user = newUser();
    const titles = ['100% done', '100 percent', 'snake_case', 'snakeXcase', 'back\\slash', 'backslash', 'Buy MILK', 'plain'];
    for (const title of titles) {
        await api.createTask(user, { title, description: title === 'plain' ? 'Remember the Milk' : null });
    }

    const search = async (q: string) => {

        const res = await api.request({ method: 'GET', url: `/api/tasks?sort=title&q=${encodeURIComponent(q)}`, as: user });
        t.is(res.statusCode, 200);
        return (res.result as Task[]).map((task) => task.title).sort();
    };

    t.deepEqual(await search('%'), ['100% done']);
    t.deepEqual(await search('0%'), ['100% done']);
    t.deepEqual(await search('_'), ['snake_case']);
    t.deepEqual(await search('e_c'), ['snake_case']);
    t.deepEqual(await search('\\'), ['back\\slash']);
    t.deepEqual(await search('k\\s'), ['back\\slash']);
    t.deepEqual(await search('milk'), ['Buy MILK', 'plain']);
    t.deepEqual(await search('  MiLk  '), ['Buy MILK', 'plain']);
    t.deepEqual(await search('nothing like it'), []);
});

test('a cursor belongs to its sort and order; a tampered one is refused; a first-release cursor still pages', async (t) => {

    const api = t.context;
    const user = newUser();
    const tasks = await seedVaried(api, user);

    const first = await api.request({ method: 'GET', url: '/api/tasks?sort=title&limit=5', as: user });
    const cursor = first.headers['x-next-cursor'] as string;
    t.truthy(cursor);

    for (const query of ['sort=priority', 'sort=title&order=desc', '']) {
        const res = await api.request({ method: 'GET', url: `/api/tasks?${query}&cursor=${cursor}`, as: user });
        t.is(res.statusCode, 422, query);
        t.regex(JSON.stringify(res.result), /cursor belongs to sort=title&order=asc/);
    }

    const same = await api.request({ method: 'GET', url: `/api/tasks?sort=title&order=asc&limit=5&cursor=${cursor}`, as: user });
    t.is(same.statusCode, 200);

    const encode = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    const id = tasks[0].id;
    for (const forged of [
        encode(['title', 'asc', 5, id]), encode(['priority', 'desc', 4, id]), encode(['priority', 'desc', '2', id]),
        encode(['due_date', 'asc', '2026-02-30T00:00:00.000000Z', id]), encode(['created_at', 'desc', null, id]),
        encode(['title', 'asc', 'x', 'not-a-uuid']), encode(['title', 'asc', 'x\u0000', id]), encode(['colour', 'asc', 'x', id]),
        encode(['title', 'asc', 'x', id, 'extra']), encode('{"sort":"title"}'), encode('[not json'), encode(['title', 'up', 'x', id]),
        encode(`2026-01-01T00:00:00.000000Z|${id}|more`), encode(`0000-01-01T00:00:00.000000Z|${id}`), 'not base64 at all!'
    ]) {
        const res = await api.request({ method: 'GET', url: `/api/tasks?sort=priority&cursor=${encodeURIComponent(forged)}`, as: user });
        t.is(res.statusCode, 422, Buffer.from(forged, 'base64url').toString());
    }

    // The first release's cursors, created_at|id, stand for the default order.
    const newest = [...tasks].sort(compare('created_at', 'desc'));
    const legacy = encode(`${newest[9].created_at}|${newest[9].id}`);
    const res = await api.request({ method: 'GET', url: `/api/tasks?limit=3&cursor=${legacy}`, as: user });
    t.is(res.statusCode, 200);
    t.deepEqual((res.result as Task[]).map((task) => task.id), newest.slice(10, 13).map((task) => task.id));
});

for (const sort of sorts) {
    for (const order of orders) {
        test(`sort=${sort}&order=${order}: paging while tasks are added, changed and deleted never skips or repeats a task that kept its place`, async (t) => {

            const api = t.context;
            const user = newUser();
            const dues = [null, '2026-01-01T00:00:00Z', '2027-06-01T00:00:00Z', '2030-12-31T23:59:59Z'];
            const priorities = ['low', 'medium', 'high'] as const;
            for (let i = 0; i < 15; ++i) {
                await api.createTask(user, { title: `task${String.fromCharCode(97 + ((i * 7) % 26))}`, priority: priorities[i % 3], due_date: dues[i % 4] });
            }

            const initial = new Set((await storedTasks(api, user)).map((task) => task.id));
            const changedKey = new Set<string>();
            const deleted = new Set<string>();
            const ids = [...initial];

            // After each page: one task added, one changed without touching this sort's key (every change moves
            // updated_at, though), one deleted.
            const seen = await walk(t, api, user, `/api/tasks?sort=${sort}&order=${order}&limit=3`, async (page) => {

                await api.createTask(user, { title: `added${page}`, priority: priorities[page % 3], due_date: dues[(page + 1) % 4] });

                const change = ids[(page * 5) % ids.length];
                const changes = sort === 'title' ? { description: `changed on page ${page}` } : { title: `task${String.fromCharCode(97 + page)}x` };
                if (!deleted.has(change)) {
                    await api.request({ method: 'PATCH', url: `/api/tasks/${change}`, as: user, payload: changes });
                    if (sort === 'updated_at' || (sort === 'title' && 'title' in changes)) {
                        changedKey.add(change);
                    }
                }

                const removed = ids[(page * 3 + 1) % ids.length];
                if (removed !== change && !deleted.has(removed)) {
                    await api.request({ method: 'DELETE', url: `/api/tasks/${removed}`, as: user });
                    deleted.add(removed);
                }
            });

            // The walk is strictly in order by the keys as each page read them: no (key, id) twice.
            const ordered = compare(sort, order);
            for (let i = 1; i < seen.length; ++i) {
                t.true(ordered(seen[i - 1], seen[i]) < 0, `${seen[i - 1].id} then ${seen[i].id}`);
            }

            const counts = new Map<string, number>();
            for (const task of seen) {
                counts.set(task.id, (counts.get(task.id) ?? 0) + 1);
            }

            for (const id of initial) {
                if (!deleted.has(id) && !changedKey.has(id)) {
                    t.is(counts.get(id), 1, `${id} kept its place: listed exactly once`);
                }
            }

            for (const [id, count] of counts) {
                t.true(count === 1 || changedKey.has(id), `${id} listed ${count} times`);
            }

            t.true(deleted.size >= 3 && (sort === 'updated_at' || changedKey.size === 0));
        });
    }
}
