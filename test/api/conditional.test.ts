import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `etag-${Crypto.randomUUID()}`;
const etagRx = /^"[A-Za-z0-9_-]{32}"$/;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


async function read(api: TestApi, user: string, id: string): Promise<{ task: Task; etag: string }> {

    const res = await api.request({ method: 'GET', url: `/api/tasks/${id}`, as: user });
    if (res.statusCode !== 200) {
        throw new Error(`GET ${id}: ${res.statusCode}`);
    }

    return { task: res.result as Task, etag: res.headers.etag as string };
}


test('every single-task answer carries a strong ETag that changes with each change and only then', async (t) => {

    const api = t.context;
    const user = newUser();
    const created = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'tagged' } });
    const task = created.result as Task;
    t.regex(created.headers.etag as string, etagRx);

    const first = await read(api, user, task.id);
    t.is(first.etag, created.headers.etag as string, 'the same version, the same tag');
    t.is((await read(api, user, task.id)).etag, first.etag);

    const seen = new Set([first.etag]);
    const writes = [
        { method: 'PUT', url: `/api/tasks/${task.id}`, payload: { title: 'replaced' } },
        { method: 'PATCH', url: `/api/tasks/${task.id}`, payload: { priority: 'high' } },
        { method: 'PATCH', url: `/api/tasks/${task.id}/complete` },
        { method: 'PATCH', url: `/api/tasks/${task.id}/complete`, payload: { completed: true } }
    ];

    for (const write of writes) {
        const res = await api.request({ ...write, as: user });
        t.is(res.statusCode, 200, write.method);
        const etag = res.headers.etag as string;
        t.regex(etag, etagRx);
        t.false(seen.has(etag), `${write.method} ${write.url} gives a new tag`);
        seen.add(etag);
        t.is((await read(api, user, task.id)).etag, etag, 'GET agrees with the write');
    }

    // The tag names the version, not the bytes: a compressed answer carries the same one, and it matches.
    await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { description: 'long '.repeat(500) } });
    const plain = await read(api, user, task.id);
    const gzipped = await api.server.inject({ url: `/api/tasks/${task.id}`, headers: { authorization: `Bearer ${api.token(user)}`, 'accept-encoding': 'gzip' } });
    t.is(gzipped.headers['content-encoding'], 'gzip');
    t.is(gzipped.headers.etag, plain.etag);
    const revalidated = await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user, headers: { 'accept-encoding': 'gzip', 'if-none-match': plain.etag } });
    t.is(revalidated.statusCode, 304);

    // A PATCH that changes nothing keeps the version, and so the tag.
    const before = await read(api, user, task.id);
    const unchanged = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: {} });
    t.is(unchanged.headers.etag, before.etag);

    // Two tasks never share a tag, even created in one statement with one timestamp.
    const { rows } = await api.database.db.knex.raw(`
        insert into tasks (user_id, title) select ?, 'twin ' || n from generate_series(1, 2) as n returning id`, [user]);
    const twins = await Promise.all(rows.map((row: { id: string }) => read(api, user, row.id)));
    t.is(twins[0].task.updated_at, twins[1].task.updated_at);
    t.not(twins[0].etag, twins[1].etag);
});

test('If-None-Match: 304 with no body for the current tag (strong, weak, in a list, or *), 200 otherwise', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user);
    const { etag } = await read(api, user, task.id);

    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*', ` ${etag} `]) {
        const res = await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-none-match': header } });
        t.is(res.statusCode, 304, header);
        t.is(res.payload, '');
        t.is(res.headers.etag, etag);
    }

    await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { title: 'moved on' } });
    for (const header of [etag, `W/${etag}`, '"nope"', 'garbage', '']) {
        const res = await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-none-match': header } });
        t.is(res.statusCode, 200, header);
        t.is((res.result as Task).title, 'moved on');
    }

    // The tag does not reveal another user's task: still 404.
    const other = await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: newUser(), headers: { 'if-none-match': '*' } });
    t.is(other.statusCode, 404);
});

test('If-Match with the current tag (or *) writes; with any other tag it is 412 and nothing changes', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user, { title: 'guarded', description: 'as it was' });
    const { etag } = await read(api, user, task.id);
    const otherTask = await read(api, user, (await api.createTask(user)).id);

    await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { priority: 'low' } });
    const current = await read(api, user, task.id);

    const stale = [etag, `W/${current.etag}`, otherTask.etag, '"not-a-tag"', 'garbage', '', `"${'A'.repeat(32)}"`];
    const writes = [
        { method: 'PUT', url: `/api/tasks/${task.id}`, payload: { title: 'overwritten' } },
        { method: 'PATCH', url: `/api/tasks/${task.id}`, payload: { title: 'overwritten' } },
        { method: 'PATCH', url: `/api/tasks/${task.id}`, payload: {} },
        { method: 'PATCH', url: `/api/tasks/${task.id}/complete` },
        { method: 'PATCH', url: `/api/tasks/${task.id}/complete`, payload: { completed: true } },
        { method: 'DELETE', url: `/api/tasks/${task.id}` }
    ];

    for (const write of writes) {
        for (const header of stale) {
            const res = await api.request({ ...write, as: user, headers: { 'if-match': header } });
            t.is(res.statusCode, 412, `${write.method} ${write.url} If-Match: ${header}`);
            t.deepEqual(res.result, { detail: 'Task was modified' });
        }
    }

    t.deepEqual(await api.tasks.getTaskForUser(user, task.id), current.task, 'no 412 changed anything, updated_at included');

    const matched = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-match': current.etag }, payload: { title: 'matched' } });
    t.is(matched.statusCode, 200);
    t.is((matched.result as Task).title, 'matched');

    const listed = await api.request({ method: 'PUT', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-match': `"stale", ${matched.headers.etag}` }, payload: { title: 'listed' } });
    t.is(listed.statusCode, 200, 'one matching tag in a list is enough');

    const star = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}/complete`, as: user, headers: { 'if-match': '*' } });
    t.is(star.statusCode, 200);
    t.true((star.result as Task).completed);

    const gone = await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-match': star.headers.etag as string } });
    t.is(gone.statusCode, 204);
    t.is(await api.tasks.getTaskForUser(user, task.id), null);
});

test('If-Match on a missing task, another user\'s, or a non-UUID id is 404, never 412', async (t) => {

    const api = t.context;
    const owner = newUser();
    const task = await api.createTask(owner);
    const { etag } = await read(api, owner, task.id);

    for (const [user, id] of [[newUser(), task.id], [owner, Crypto.randomUUID()], [owner, 'not-a-uuid']]) {
        for (const header of [etag, '*', '"stale"']) {
            for (const write of [
                { method: 'PUT', payload: { title: 'x' } },
                { method: 'PATCH', payload: { title: 'x' } },
                { method: 'PATCH', payload: {} },
                { method: 'DELETE' }
            ]) {
                const res = await api.request({ ...write, url: `/api/tasks/${id}`, as: user, headers: { 'if-match': header } });
                t.is(res.statusCode, 404, `${write.method} ${id} as ${user === owner ? 'owner' : 'stranger'} If-Match: ${header}`);
            }
        }
    }

    t.deepEqual(await api.tasks.getTaskForUser(owner, task.id), task);
});

test('a body that fails validation is a 422 before any precondition', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user);

    const res = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-match': '"stale"' }, payload: { title: '' } });
    t.is(res.statusCode, 422);
});

for (const [name, write] of [
    ['PUT', (i: number) => ({ method: 'PUT', path: '', payload: { title: `client ${i}` } })],
    ['PATCH', (i: number) => ({ method: 'PATCH', path: '', payload: { title: `client ${i}`, priority: i ? 'high' : 'low' } })],
    ['PATCH /complete', (i: number) => ({ method: 'PATCH', path: '/complete', payload: { completed: i === 0 } })]
] as const) {
    test(`two clients ${name} with the ETag they both read: exactly one wins, the other gets 412, the stored task is the winner's`, async (t) => {

        const api = t.context;
        const user = newUser();

        // Rounds, so that on PostgreSQL both writes really overlap in some of them.
        for (let round = 0; round < 15; ++round) {
            const task = await api.createTask(user, { title: `round ${round}` });
            const [a, b] = await Promise.all([read(api, user, task.id), read(api, user, task.id)]);
            t.is(a.etag, b.etag);

            const responses = await Promise.all([a, b].map(({ etag }, i) => {

                const { method, path, payload } = write(i);
                return api.request({ method, url: `/api/tasks/${task.id}${path}`, as: user, headers: { 'if-match': etag }, payload });
            }));

            const statuses = responses.map((res) => res.statusCode).sort();
            t.deepEqual(statuses, [200, 412], `round ${round}`);

            const winner = responses.find((res) => res.statusCode === 200)!;
            const loser = responses.find((res) => res.statusCode === 412)!;
            t.deepEqual(loser.result, { detail: 'Task was modified' });
            const stored = await read(api, user, task.id);
            t.deepEqual(stored.task, winner.result, 'the stored task is the winner\'s');
            t.is(stored.etag, winner.headers.etag as string);
        }
    });
}

test('two clients deleting with the same ETag: one 204, the other 404 (the task is gone)', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user);
    const { etag } = await read(api, user, task.id);

    const responses = await Promise.all([0, 1].map(() => api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-match': etag } })));
    const statuses = responses.map((res) => res.statusCode).sort();
    t.is(statuses[0], 204);
    // The loser saw the task in its snapshot while the winner's delete was committing (412), or after it (404).
    t.true(statuses[1] === 404 || statuses[1] === 412, String(statuses[1]));
    t.is(await api.tasks.getTaskForUser(user, task.id), null);
});

test('a write racing an edit with a stale tag never overwrites it', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user);
    const { etag } = await read(api, user, task.id);

    // Unconditional edits and conditional ones with the first tag, all at once: at most one conditional one can
    // win, and only if it ran before every edit.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => {

        return i % 2 ?
            api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { description: `edit ${i}` } }) :
            api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, headers: { 'if-match': etag }, payload: { title: `guarded ${i}` } });
    }));

    const conditionalWins = results.filter((res, i) => i % 2 === 0 && res.statusCode === 200);
    t.true(conditionalWins.length <= 1);
    t.true(results.every((res, i) => res.statusCode === 200 || (i % 2 === 0 && res.statusCode === 412)));

    const stored = (await read(api, user, task.id)).task;
    const newest = results.filter((res) => res.statusCode === 200).map((res) => res.result as Task).sort((x, y) => x.updated_at.localeCompare(y.updated_at)).pop()!;
    t.deepEqual(stored, newest, 'the stored task is the last write that succeeded');
});
