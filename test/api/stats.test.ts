import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `counted-${Crypto.randomUUID()}`;

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
