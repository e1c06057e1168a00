import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `user-${Crypto.randomUUID()}`;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


test('POST /api/tasks creates a task with defaults and a Location', async (t) => {

    const user = newUser();
    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'Buy milk' } });

    t.is(res.statusCode, 201);
    const task = res.result as Task;
    t.is(res.headers.location, `/api/tasks/${task.id}`);
    t.like(task, { user_id: user, title: 'Buy milk', description: null, completed: false, priority: 'medium', due_date: null });
    t.regex(task.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    t.is(task.updated_at, task.created_at);
    t.deepEqual(await t.context.tasks.getTaskForUser(user, task.id), task);
});

test('POST /api/tasks stores every editable field, trims the title and reads due_date as UTC', async (t) => {

    const res = await t.context.request({
        method: 'POST', url: '/api/tasks', as: newUser(),
        payload: { title: '  Write report \n', description: 'Q3 numbers', completed: true, priority: 'high', due_date: '2026-12-31T17:30:00+01:00' }
    });

    t.is(res.statusCode, 201);
    t.like(res.result, { title: 'Write report', description: 'Q3 numbers', completed: true, priority: 'high', due_date: '2026-12-31T16:30:00.000000Z' });
});

test('due_date accepts a bare date or an offset-less date-time as UTC, and null', async (t) => {

    const user = newUser();
    t.is((await t.context.createTask(user, { due_date: '2027-01-05' })).due_date, '2027-01-05T00:00:00.000000Z');
    t.is((await t.context.createTask(user, { due_date: '2027-01-05T08:15' })).due_date, '2027-01-05T08:15:00.000000Z');
    t.is((await t.context.createTask(user, { due_date: null })).due_date, null);
});

test('fields a client may not set and unknown fields change nothing', async (t) => {

    const user = newUser();
    const res = await t.context.request({
        method: 'POST', url: '/api/tasks', as: user,
        payload: { title: 'Mine', id: '00000000-0000-4000-8000-000000000000', user_id: 'someone-else', created_at: '2000-01-01T00:00:00Z', updated_at: '2000-01-01T00:00:00Z', colour: 'red' }
    });

    t.is(res.statusCode, 201);
    const task = res.result as Task;
    t.not(task.id, '00000000-0000-4000-8000-000000000000');
    t.is(task.user_id, user);
    t.false(task.created_at.startsWith('2000'));
    t.false('colour' in task);

    const patched = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { user_id: 'someone-else', title: 'Still mine' } });
    t.is(patched.statusCode, 200);
    t.like(patched.result, { user_id: user, title: 'Still mine', id: task.id, created_at: task.created_at });
});

test('GET /api/tasks/{id} returns the task; unknown and non-UUID ids are 404', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user);

    const res = await t.context.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, task);

    for (const id of [Crypto.randomUUID(), 'not-a-uuid', '123', '1\' or \'1\'=\'1']) {
        const missing = await t.context.request({ method: 'GET', url: `/api/tasks/${encodeURIComponent(id)}`, as: user });
        t.is(missing.statusCode, 404, id);
        t.deepEqual(missing.result, { detail: 'Task not found' });
    }
});

test('PUT replaces the editable fields and resets omitted optional ones to defaults', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user, { description: 'd', completed: true, priority: 'high', due_date: '2027-01-01T00:00:00Z' });

    const res = await t.context.request({ method: 'PUT', url: `/api/tasks/${task.id}`, as: user, payload: { title: 'Replaced' } });
    t.is(res.statusCode, 200);
    const replaced = res.result as Task;
    t.like(replaced, { id: task.id, title: 'Replaced', description: null, completed: false, priority: 'medium', due_date: null, created_at: task.created_at });
    t.true(replaced.updated_at > task.updated_at);

    const missingTitle = await t.context.request({ method: 'PUT', url: `/api/tasks/${task.id}`, as: user, payload: { description: 'no title' } });
    t.is(missingTitle.statusCode, 422);
    t.deepEqual((missingTitle.result as any).detail[0].loc, ['body', 'title']);
    t.deepEqual(await t.context.tasks.getTaskForUser(user, task.id), replaced);
});

test('PATCH changes only the fields sent and moves updated_at', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user, { description: 'keep me', priority: 'low' });

    const res = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { priority: 'high', due_date: '2027-03-01T09:00:00Z' } });
    t.is(res.statusCode, 200);
    const patched = res.result as Task;
    t.like(patched, { title: task.title, description: 'keep me', priority: 'high', due_date: '2027-03-01T09:00:00.000000Z', completed: false });
    t.true(patched.updated_at > task.updated_at);

    const cleared = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { description: null, due_date: null } });
    t.like(cleared.result, { description: null, due_date: null, priority: 'high' });
});

test('PATCH with nothing to change returns the task untouched', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user);

    const res = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { unknown: 1 } });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, task);

    const missing = await t.context.request({ method: 'PATCH', url: `/api/tasks/${Crypto.randomUUID()}`, as: user, payload: {} });
    t.is(missing.statusCode, 404);
});

test('updated_at moves on every change, even when the clock has not passed it (changes within one clock tick, a clock set back)', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user);

    // A version stamped an hour ahead stands for a clock that has not moved (or went back) since the last change: each
    // change must still give a newer updated_at, or two versions would share one ETag.
    await t.context.database.db.knex.raw('update tasks set updated_at = updated_at + interval \'1 hour\' where id = ?', [task.id]);
    let previous = (await t.context.tasks.getTaskForUser(user, task.id))!.updated_at;
    for (let i = 0; i < 5; ++i) {
        const res = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}/complete`, as: user });
        const current = (res.result as Task).updated_at;
        t.true(current > previous, `${current} > ${previous}`);
        previous = current;
    }
});

test('PATCH /complete toggles with no body and sets with {"completed": ...}', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user);
    const complete = (payload?: unknown) => t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}/complete`, as: user, payload: payload as object });

    t.is(((await complete()).result as Task).completed, true);
    t.is(((await complete()).result as Task).completed, false);
    t.is(((await complete({})).result as Task).completed, true);
    t.is(((await complete({ completed: true })).result as Task).completed, true);
    t.is(((await complete({ completed: false })).result as Task).completed, false);
    t.is(((await complete({ completed: false })).result as Task).completed, false);

    const bad = await complete({ completed: 'maybe' });
    t.is(bad.statusCode, 422);
    t.deepEqual((bad.result as any).detail[0].loc, ['body', 'completed']);
    t.false((await t.context.tasks.getTaskForUser(user, task.id))!.completed);

    const missing = await t.context.request({ method: 'PATCH', url: `/api/tasks/${Crypto.randomUUID()}/complete`, as: user });
    t.is(missing.statusCode, 404);
});

test('DELETE answers 204 with no body, then 404', async (t) => {

    const user = newUser();
    const task = await t.context.createTask(user);

    const res = await t.context.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });
    t.is(res.statusCode, 204);
    t.is(res.payload, '');
    t.is(await t.context.tasks.getTaskForUser(user, task.id), null);

    const again = await t.context.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });
    t.is(again.statusCode, 404);
    t.deepEqual(again.result, { detail: 'Task not found' });

    const notUuid = await t.context.request({ method: 'DELETE', url: '/api/tasks/42', as: user });
    t.is(notUuid.statusCode, 404);
});

test('GET /api/tasks lists only the user\'s tasks, newest first, filtered by status or completed', async (t) => {

    const user = newUser();
    const first = await t.context.createTask(user, { title: 'first' });
    const second = await t.context.createTask(user, { title: 'second', completed: true });
    const third = await t.context.createTask(user, { title: 'third' });
    await t.context.createTask(newUser(), { title: 'not mine' });

    const titles = async (query: string) => {

        const res = await t.context.request({ method: 'GET', url: `/api/tasks${query}`, as: user });
        t.is(res.statusCode, 200, query);
        return (res.result as Task[]).map((task) => task.title);
    };

    t.deepEqual(await titles(''), [third.title, second.title, first.title]);
    t.deepEqual(await titles('?status=all'), ['third', 'second', 'first']);
    t.deepEqual(await titles('?status=pending'), ['third', 'first']);
    t.deepEqual(await titles('?status=completed'), ['second']);
    t.deepEqual(await titles('?completed=true'), ['second']);
    t.deepEqual(await titles('?completed=false'), ['third', 'first']);
    t.deepEqual(await titles('?status=completed&completed=true'), ['second']);
    t.deepEqual(await titles('?unrelated=1'), ['third', 'second', 'first']);
    t.deepEqual(await titles(`?limit=1&status=pending`), ['third']);
});

test('a trailing slash reaches the same routes', async (t) => {

    const user = newUser();
    const created = await t.context.request({ method: 'POST', url: '/api/tasks/', as: user, payload: { title: 'slash' } });
    t.is(created.statusCode, 201);
    const task = created.result as Task;

    const list = await t.context.request({ method: 'GET', url: '/api/tasks/', as: user });
    t.deepEqual((list.result as Task[]).map((item) => item.id), [task.id]);

    const one = await t.context.request({ method: 'GET', url: `/api/tasks/${task.id}/`, as: user });
    t.is(one.statusCode, 200);
});

test('DELETE /api/tasks/ (the path of one task with an empty id) is 404 and clears nothing, even with status=completed', async (t) => {

    const user = newUser();
    const done = await t.context.createTask(user, { title: 'done', completed: true });
    const open = await t.context.createTask(user, { title: 'open' });
    // A dot segment resolves to the same path: an id of "." or "%2e" is an empty one.
    for (const url of ['/api/tasks/', '/api/tasks/?status=completed', '/api/tasks/.?status=completed', '/api/tasks/%2e?status=completed', '/api/tasks/x/..?status=completed']) {
        // A path the contract does not have: sent past request(), which refuses it.
        t.is((await t.context.server.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${t.context.token(user)}` } })).statusCode, 404, url);
    }

    const list = await t.context.request({ method: 'GET', url: '/api/tasks', as: user });
    t.deepEqual((list.result as Task[]).map((task) => task.id).sort(), [done.id, open.id].sort());
    t.deepEqual((await t.context.request({ method: 'DELETE', url: '/api/tasks?status=completed', as: user })).result, { deleted: 1 }, 'without the slash it clears');
});

test('an empty list is an empty array with no next page', async (t) => {

    const res = await t.context.request({ method: 'GET', url: '/api/tasks', as: newUser() });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, []);
    t.is(res.headers.link, undefined);
    t.is(res.headers['x-next-cursor'], undefined);
});
