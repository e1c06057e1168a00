import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


async function walk(t: any, api: TestApi, user: string, firstUrl: string) {

    const seen: Task[] = [];
    const sizes: number[] = [];
    let url: string | null = firstUrl;
    while (url) {
        const res = await api.request({ method: 'GET', url, as: user });
        t.is(res.statusCode, 200);
        const page = res.result as Task[];
        seen.push(...page);
        sizes.push(page.length);

        const link = res.headers.link as string | undefined;
        const cursor = res.headers['x-next-cursor'] as string | undefined;
        t.is(Boolean(link), Boolean(cursor));
        if (link) {
            const match = /^<([^>]+)>; rel="next"$/.exec(link);
            t.truthy(match, link);
            t.true(match![1].includes(`cursor=${cursor}`));
            url = match![1];
        }
        else {
            url = null;
        }

        t.true(sizes.length < 100, 'pagination ends');
    }

    return { seen, sizes };
}


test('pages cover every task once, newest first, with no task missing or repeated', async (t) => {

    const user = `pager-${Crypto.randomUUID()}`;
    const created: Task[] = [];
    for (let i = 0; i < 23; ++i) {
        created.push(await t.context.createTask(user, { title: `task ${i}`, completed: i % 3 === 0 }));
    }

    const { seen, sizes } = await walk(t, t.context, user, '/api/tasks?limit=5');
    t.deepEqual(sizes, [5, 5, 5, 5, 3]);
    t.deepEqual(seen.map((task) => task.id), created.map((task) => task.id).reverse());

    const exact = await walk(t, t.context, user, '/api/tasks?limit=23');
    t.deepEqual(exact.sizes, [23]);

    const completed = await walk(t, t.context, user, '/api/tasks?status=completed&limit=3');
    t.deepEqual(completed.seen.map((task) => task.title), created.filter((task) => task.completed).map((task) => task.title).reverse());
    t.deepEqual(completed.sizes, [3, 3, 2]);

    const pending = await walk(t, t.context, user, '/api/tasks?completed=false&limit=4');
    t.deepEqual(pending.seen.map((task) => task.title), created.filter((task) => !task.completed).map((task) => task.title).reverse());
});

test('the default page is 100 tasks', async (t) => {

    const user = `hundred-${Crypto.randomUUID()}`;
    await t.context.database.db.knex.raw(`
        insert into tasks (user_id, title, created_at)
        select ?, 'bulk ' || n, now() - n * interval '1 second' from generate_series(1, 150) as n`, [user]);

    const { sizes, seen } = await walk(t, t.context, user, '/api/tasks');
    t.deepEqual(sizes, [100, 50]);
    t.is(new Set(seen.map((task) => task.id)).size, 150);
});

test('tasks created while paging do not shift the pages already read', async (t) => {

    const user = `shifting-${Crypto.randomUUID()}`;
    const created: Task[] = [];
    for (let i = 0; i < 6; ++i) {
        created.push(await t.context.createTask(user, { title: `old ${i}` }));
    }

    const first = await t.context.request({ method: 'GET', url: '/api/tasks?limit=3', as: user });
    await t.context.createTask(user, { title: 'newer' });
    const second = await t.context.request({ method: 'GET', url: `/api/tasks?limit=3&cursor=${first.headers['x-next-cursor']}`, as: user });

    const ids = [...first.result as Task[], ...second.result as Task[]].map((task) => task.id);
    t.deepEqual(ids, created.map((task) => task.id).reverse());
});

test('tasks sharing one created_at are paged by id without loss', async (t) => {

    const user = `ties-${Crypto.randomUUID()}`;
    await t.context.database.db.knex.raw(`
        insert into tasks (user_id, title, created_at)
        select ?, 'tie ' || n, '2026-01-01T00:00:00Z' from generate_series(1, 12) as n`, [user]);

    const { seen, sizes } = await walk(t, t.context, user, '/api/tasks?limit=5');
    t.deepEqual(sizes, [5, 5, 2]);
    t.is(new Set(seen.map((task) => task.id)).size, 12);
});
