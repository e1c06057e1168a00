import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TrashedTask } from '../../src/data/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `trash-${Crypto.randomUUID()}`;
const max = 3;
const retentionDays = 30;

test.before(async (t) => {

    t.context = await startTestApi({ MAX_TASKS_PER_USER: String(max), TRASH_RETENTION_DAYS: String(retentionDays) });
});

test.after.always(async (t) => {

    await t.context?.stop();
});


async function trash(api: TestApi, user: string, query = ''): Promise<TrashedTask[]> {

    const res = await api.request({ method: 'GET', url: `/api/trash${query}`, as: user });
    if (res.statusCode !== 200) {
        throw new Error(`trash: ${res.statusCode} ${res.payload}`);
    }

    return res.result as TrashedTask[];
}


async function live(api: TestApi, user: string): Promise<string[]> {

    const res = await api.request({ method: 'GET', url: '/api/tasks', as: user });
    return (res.result as Task[]).map((task) => task.id);
}


/** Moves the task's trash time back past the retention (as if that many days had gone by). */
async function age(api: TestApi, user: string, id: string, days: number): Promise<void> {

    await api.database.db.knex.raw(`update tasks set deleted_at = deleted_at - ? * interval '1 day' where user_id = ? and id = ?`, [days, user, id]);
}


test('a deleted task is in the trash: 404 on every route of the task, out of the list and the stats, and listed in the trash as it was', async (t) => {

    const api = t.context;
    const user = newUser();
    const kept = await api.createTask(user, { title: 'kept' });
    const doomed = await api.createTask(user, { title: 'doomed', description: 'notes', priority: 'high', due_date: '2027-01-01T00:00:00Z' });

    const deleted = await api.request({ method: 'DELETE', url: `/api/tasks/${doomed.id}`, as: user });
    t.is(deleted.statusCode, 204);

    for (const [method, url, payload] of [
        ['GET', `/api/tasks/${doomed.id}`], ['PUT', `/api/tasks/${doomed.id}`, { title: 'x' }], ['PATCH', `/api/tasks/${doomed.id}`, { title: 'x' }],
        ['PATCH', `/api/tasks/${doomed.id}/complete`], ['DELETE', `/api/tasks/${doomed.id}`]
    ] as [string, string, object?][]) {
        const res = await api.request({ method, url, as: user, payload });
        t.is(res.statusCode, 404, `${method} ${url}`);
    }

    // A precondition does not reach a trashed task either: 404, not 412.
    const conditional = await api.request({ method: 'PATCH', url: `/api/tasks/${doomed.id}`, as: user, headers: { 'if-match': '*' }, payload: { title: 'x' } });
    t.is(conditional.statusCode, 404);

    t.deepEqual(await live(api, user), [kept.id]);
    t.like((await api.request({ method: 'GET', url: '/api/tasks/stats', as: user })).result, { total: 1, pending: 1, completed: 0 });

    const [trashed, ...rest] = await trash(api, user);
    t.deepEqual(rest, []);
    const { deleted_at: deletedAt, ...asItWas } = trashed;
    t.deepEqual(asItWas, doomed);
    t.regex(deletedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);

    // Nobody else sees it.
    t.deepEqual(await trash(api, newUser()), []);
});

test('clear completed moves the completed tasks to the trash; the trash is most recently deleted first, paged with X-Next-Cursor and Link', async (t) => {

    const api = t.context;
    const user = newUser();
    const first = await api.createTask(user, { title: 'first', completed: true });
    const second = await api.createTask(user, { title: 'second', completed: true });
    const pending = await api.createTask(user, { title: 'pending' });

    const cleared = await api.request({ method: 'DELETE', url: '/api/tasks?status=completed', as: user });
    t.deepEqual(cleared.result, { deleted: 2 });
    t.deepEqual(await live(api, user), [pending.id]);
    t.is((await api.request({ method: 'DELETE', url: `/api/tasks/${pending.id}`, as: user })).statusCode, 204);

    const all = await trash(api, user);
    t.is(all.length, 3);
    t.is(all[0].id, pending.id, 'the last deleted comes first');
    t.deepEqual(all.slice(1).map((task) => task.id).sort(), [first.id, second.id].sort());

    const seen: string[] = [];
    let url = '/api/trash?limit=1';
    for (let pages = 0; pages < 5 && url; ++pages) {
        const res = await api.request({ method: 'GET', url, as: user });
        t.is(res.statusCode, 200);
        seen.push(...(res.result as TrashedTask[]).map((task) => task.id));
        const next = res.headers['x-next-cursor'] as string | undefined;
        if (next) {
            t.is(res.headers.link, `</api/trash?limit=1&cursor=${next}>; rel="next"`);
        }

        url = next ? `/api/trash?limit=1&cursor=${next}` : '';
    }

    t.deepEqual(seen, all.map((task) => task.id));

    for (const cursor of ['nope', 'dHJhc2g6', 'dHJhc2g6LTE', Buffer.from('trash:1.5').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
        const res = await api.request({ method: 'GET', url: `/api/trash?cursor=${cursor}`, as: user });
        t.is(res.statusCode, 422, cursor);
    }

    t.is((await api.request({ method: 'GET', url: '/api/trash?limit=0', as: user })).statusCode, 422);
    t.is((await api.request({ method: 'GET', url: '/api/trash?limit=101', as: user })).statusCode, 422);
});

test('restore brings the task back as it was, with updated_at and the ETag new; 404 when it is not in this user\'s trash', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user, { title: 'come back', priority: 'low' });
    const before = await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user });
    await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });

    t.is((await api.request({ method: 'POST', url: `/api/trash/${task.id}/restore`, as: newUser() })).statusCode, 404, 'another user\'s');
    t.is((await api.request({ method: 'POST', url: `/api/trash/${Crypto.randomUUID()}/restore`, as: user })).statusCode, 404);
    t.is((await api.request({ method: 'POST', url: '/api/trash/not-a-uuid/restore', as: user })).statusCode, 404);

    const restored = await api.request({ method: 'POST', url: `/api/trash/${task.id}/restore`, as: user });
    t.is(restored.statusCode, 200);
    const back = restored.result as Task;
    t.deepEqual({ ...back, updated_at: task.updated_at }, task);
    t.true(back.updated_at > task.updated_at);
    t.not(restored.headers.etag, before.headers.etag);

    const now = await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user });
    t.is(now.headers.etag, restored.headers.etag);
    t.deepEqual(now.result, back);
    t.deepEqual(await live(api, user), [task.id]);
    t.deepEqual(await trash(api, user), []);

    t.is((await api.request({ method: 'POST', url: `/api/trash/${task.id}/restore`, as: user })).statusCode, 404, 'a live task is not in the trash');
});

test('a trashed task does not count toward MAX_TASKS_PER_USER; a restore that would pass it is 409 and leaves the task in the trash', async (t) => {

    const api = t.context;
    const user = newUser();
    const tasks: Task[] = [];
    for (let i = 0; i < max; ++i) {
        tasks.push(await api.createTask(user, { title: `#${i}` }));
    }

    await api.request({ method: 'DELETE', url: `/api/tasks/${tasks[0].id}`, as: user });
    t.is((await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'room made' } })).statusCode, 201);

    const refused = await api.request({ method: 'POST', url: `/api/trash/${tasks[0].id}/restore`, as: user });
    t.is(refused.statusCode, 409);
    t.deepEqual(refused.result, { detail: `Task limit reached: a user can hold at most ${max} tasks; delete some before restoring this one` });
    t.deepEqual((await trash(api, user)).map((task) => task.id), [tasks[0].id]);
    t.is((await live(api, user)).length, max);

    await api.request({ method: 'DELETE', url: `/api/tasks/${tasks[1].id}`, as: user });
    t.is((await api.request({ method: 'POST', url: `/api/trash/${tasks[0].id}/restore`, as: user })).statusCode, 200);
});

test('DELETE /api/trash/{id} removes a trashed task for good; DELETE /api/trash empties the trash', async (t) => {

    const api = t.context;
    const user = newUser();
    const [a, b, c] = [await api.createTask(user, { title: 'a' }), await api.createTask(user, { title: 'b' }), await api.createTask(user, { title: 'c' })];
    for (const task of [a, b]) {
        await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });
    }

    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${c.id}`, as: user })).statusCode, 404, 'a live task is not purged');
    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${a.id}`, as: newUser() })).statusCode, 404, 'another user\'s');
    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${a.id}`, as: user })).statusCode, 204);
    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${a.id}`, as: user })).statusCode, 404);
    t.is((await api.request({ method: 'POST', url: `/api/trash/${a.id}/restore`, as: user })).statusCode, 404);
    t.deepEqual((await trash(api, user)).map((task) => task.id), [b.id]);

    t.deepEqual((await api.request({ method: 'DELETE', url: '/api/trash', as: newUser() })).result, { deleted: 0 });
    t.deepEqual((await api.request({ method: 'DELETE', url: '/api/trash', as: user })).result, { deleted: 1 });
    t.deepEqual(await trash(api, user), []);
    t.deepEqual(await live(api, user), [c.id]);

    const { rows } = await api.database.db.knex.raw('select count(*)::int as n from tasks where user_id = ?', [user]);
    t.is(rows[0].n, 1, 'the purged rows are gone from the table');
});

test('DELETE /api/trash/ (the path of one task with an empty id) is 404 and empties nothing, with or without a query or a token', async (t) => {

    const api = t.context;
    const user = newUser();
    const [a, b] = [await api.createTask(user, { title: 'a' }), await api.createTask(user, { title: 'b' })];
    await api.request({ method: 'DELETE', url: `/api/tasks/${a.id}`, as: user });

    // Paths the contract does not have: sent past api.request(), which refuses them.
    const send = (url: string, token: boolean) => api.server.inject({ method: 'DELETE', url, headers: token ? { authorization: `Bearer ${api.token(user)}` } : {} });
    const unknown = await send('/api/nothing', true);
    // Dot segments resolve as URL resolves them: "." and "%2e" as an id are an empty one.
    for (const url of ['/api/trash/', '/api/trash/?limit=1', '/api/trash//', '/api/trash/.', '/api/trash/%2E', '/api/trash/x/..']) {
        const res = await send(url, true);
        t.is(res.statusCode, 404, url);
        t.deepEqual(res.result, unknown.result, `${url}: answered as a path with no route`);
        t.is((await send(url, false)).statusCode, 404, `${url} without a token`);
    }

    t.deepEqual((await trash(api, user)).map((task) => task.id), [a.id]);
    t.deepEqual(await live(api, user), [b.id]);
    t.deepEqual((await api.request({ method: 'DELETE', url: '/api/trash', as: user })).result, { deleted: 1 }, 'without the slash it empties the trash');
});

test('past TRASH_RETENTION_DAYS a trashed task is out of the trash at once, and the next trash write (anyone\'s) removes it for good', async (t) => {

    const api = t.context;
    const user = newUser();
    const old = await api.createTask(user, { title: 'old' });
    const recent = await api.createTask(user, { title: 'recent' });
    await api.request({ method: 'DELETE', url: `/api/tasks/${old.id}`, as: user });
    await api.request({ method: 'DELETE', url: `/api/tasks/${recent.id}`, as: user });
    await age(api, user, old.id, retentionDays + 1);
    await age(api, user, recent.id, retentionDays - 1);

    t.deepEqual((await trash(api, user)).map((task) => task.id), [recent.id]);
    t.is((await api.request({ method: 'POST', url: `/api/trash/${old.id}/restore`, as: user })).statusCode, 404);
    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${old.id}`, as: user })).statusCode, 404);

    // Another user's delete cleans it: no scheduler.
    const other = newUser();
    const theirs = await api.createTask(other, { title: 'theirs' });
    await api.request({ method: 'DELETE', url: `/api/tasks/${theirs.id}`, as: other });

    const { rows } = await api.database.db.knex.raw('select id from tasks where user_id = ? order by id', [user]);
    t.deepEqual(rows.map((row: { id: string }) => row.id), [recent.id]);
});


test('a task removed for good takes its Idempotency-Keys with it (by DELETE /api/trash/{id}, by emptying the trash, and by the retention); until then a retry still answers the task', async (t) => {

    const api = t.context;
    const user = newUser();
    const keys = async () => (await api.database.db.knex.raw('select key from idempotency_keys where user_id = ? order by key', [user])).rows.map((row: { key: string }) => row.key);
    const create = async (key: string) => {

        const res = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: key }, headers: { 'idempotency-key': key } });
        t.true([200, 201].includes(res.statusCode), res.payload);
        return res.result as Task;
    };

    const [one, two, three] = [await create('key-one'), await create('key-two'), await create('key-three')];
    for (const task of [one, two, three]) {
        t.is((await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user })).statusCode, 204);
    }

    // In the trash, the key still answers with its task: a late retry does not make a second one.
    t.is((await create('key-one')).id, one.id);
    t.deepEqual(await keys(), ['key-one', 'key-three', 'key-two']);

    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${one.id}`, as: user })).statusCode, 204);
    t.deepEqual(await keys(), ['key-three', 'key-two']);

    await age(api, user, two.id, retentionDays + 1);
    const other = newUser();
    const theirs = await api.createTask(other, { title: 'theirs' });
    await api.request({ method: 'DELETE', url: `/api/tasks/${theirs.id}`, as: other });
    t.deepEqual(await keys(), ['key-three'], 'the retention removed the task and its key');

    t.deepEqual((await api.request({ method: 'DELETE', url: '/api/trash', as: user })).result, { deleted: 1 });
    t.deepEqual(await keys(), []);
});
