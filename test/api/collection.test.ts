import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


// The routes on the whole collection: GET /api/tasks/stats and DELETE /api/tasks?status=completed.
const test = anyTest as TestFn<TestApi>;
const newUser = () => `collection-${Crypto.randomUUID()}`;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});



test('GET /api/tasks/stats counts the user\'s tasks: total, pending, completed, overdue (pending and past due)', async (t) => {

    const api = t.context;
    const user = newUser();
    const past = '2020-01-01T00:00:00Z';
    const future = '2099-01-01T00:00:00Z';
    for (const fields of [
        { completed: false, due_date: past },       // overdue
        { completed: false, due_date: past },       // overdue
        { completed: true, due_date: past },        // done late: not overdue
        { completed: false, due_date: future },
        { completed: false, due_date: null },
        { completed: true, due_date: null },
        { completed: true, due_date: future }
    ]) {
        await api.createTask(user, fields);
    }

    await api.createTask(newUser(), { due_date: past });     // someone else's

    const res = await api.request({ method: 'GET', url: '/api/tasks/stats', as: user });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, { total: 7, pending: 4, completed: 3, overdue: 2 });

    // A task falling due moves it to overdue; completing one moves it out.
    const soon = await api.createTask(user, { due_date: new Date(Date.now() - 1000).toISOString() });
    t.deepEqual((await api.request({ method: 'GET', url: '/api/tasks/stats', as: user })).result, { total: 8, pending: 5, completed: 3, overdue: 3 });
    await api.request({ method: 'PATCH', url: `/api/tasks/${soon.id}/complete`, as: user });
    t.deepEqual((await api.request({ method: 'GET', url: '/api/tasks/stats', as: user })).result, { total: 8, pending: 4, completed: 4, overdue: 2 });
});

test('a user without tasks gets zeros; stats needs a token; a query changes nothing', async (t) => {

    const api = t.context;
    const res = await api.request({ method: 'GET', url: '/api/tasks/stats?status=completed', as: newUser() });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, { total: 0, pending: 0, completed: 0, overdue: 0 });

    t.is((await api.request({ method: 'GET', url: '/api/tasks/stats' })).statusCode, 401);
});

test('stats is not a task id: /api/tasks/stats is the counts for GET, and no other method answers there', async (t) => {

    const api = t.context;
    const user = newUser();
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
        // PUT, PATCH and DELETE reach /api/tasks/{id} with the id "stats": a task that does not exist.
        const res = await api.request({ method, url: '/api/tasks/stats', as: user, payload: method === 'DELETE' ? undefined : { title: 'x' } });
        t.is(res.statusCode, 404, method);
    }
});



async function titles(api: TestApi, user: string): Promise<string[]> {

    return ((await api.request({ method: 'GET', url: '/api/tasks', as: user })).result as Task[]).map((task) => task.title).sort();
}


test('DELETE /api/tasks?status=completed deletes the user\'s completed tasks, only those, and says how many', async (t) => {

    const api = t.context;
    const [user, other] = [newUser(), newUser()];
    for (const [title, completed] of [['done 1', true], ['done 2', true], ['todo 1', false], ['todo 2', false], ['done 3', true]] as const) {
        await api.createTask(user, { title, completed });
    }

    await api.createTask(other, { title: 'theirs, done', completed: true });

    const res = await api.request({ method: 'DELETE', url: '/api/tasks?status=completed', as: user });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, { deleted: 3 });
    t.deepEqual(await titles(api, user), ['todo 1', 'todo 2']);
    t.deepEqual(await titles(api, other), ['theirs, done'], 'another user\'s completed tasks stay');

    const again = await api.request({ method: 'DELETE', url: '/api/tasks?status=completed', as: user });
    t.deepEqual(again.result, { deleted: 0 });
});

test('any other DELETE on the collection is a 422 that deletes nothing', async (t) => {

    const api = t.context;
    const user = newUser();
    await api.createTask(user, { title: 'done', completed: true });
    await api.createTask(user, { title: 'todo' });

    for (const query of ['', '?status=all', '?status=pending', '?status=', '?completed=true', '?status=COMPLETED',
        '?status=completed&priority=high', '?status=completed&status=completed', '?status=completed&force=true', '?q=done']) {
        const res = await api.request({ method: 'DELETE', url: `/api/tasks${query}`, as: user });
        t.is(res.statusCode, 422, query || 'no query');
        t.true(Array.isArray((res.result as { detail: unknown }).detail));
    }

    const bare = await api.request({ method: 'DELETE', url: '/api/tasks', as: user });
    t.regex(JSON.stringify(bare.result), /status=completed is required/);
    t.deepEqual(await titles(api, user), ['done', 'todo']);

    t.is((await api.request({ method: 'DELETE', url: '/api/tasks?status=completed' })).statusCode, 401);
    t.deepEqual(await titles(api, user), ['done', 'todo']);
});

test('clearing while tasks are completed at the same time deletes each one whole or not at all', async (t) => {

    const api = t.context;
    const user = newUser();
    const created = [];
    for (let i = 0; i < 20; ++i) {
        created.push(await api.createTask(user, { title: `#${i}`, completed: i % 2 === 0 }));
    }

    const [cleared, ...completions] = await Promise.all([
        api.request({ method: 'DELETE', url: '/api/tasks?status=completed', as: user }),
        ...created.filter((_, i) => i % 2 === 1).map((task) => api.request({ method: 'PATCH', url: `/api/tasks/${task.id}/complete`, as: user }))
    ]);

    const deleted = (cleared.result as { deleted: number }).deleted;
    const remaining = (await api.request({ method: 'GET', url: '/api/tasks', as: user })).result as Task[];
    t.is(deleted + remaining.length, 20, 'every task is either deleted or still there');
    t.true(deleted >= 10);
    t.true(remaining.every((task) => task.completed), 'what is left was completed after the clear');
    t.true(completions.every((res) => res.statusCode === 200 || res.statusCode === 404));
});
