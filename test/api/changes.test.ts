import Crypto from 'node:crypto';

import { fc } from '@fast-check/ava';
import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from 'knex';

import { bulkSeed, syntheticUserId } from '../../src/data/bulk-seed';
import { positional } from '../../src/data/query';
import type { Query } from '../../src/data/query';
import type { Task } from '../../src/common/tasks';
import { taskStore } from '../../src/data/tasks';
import { encodeFeedCursor } from '../../src/common/cursors';
import type { components } from '../../src/generated/openapi';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { waitFor } from '../helpers/wait';


type ChangePage = components['schemas']['ChangePage'];
type Copy = Map<string, { task: Task; etag: string }>;

const test = anyTest as TestFn<TestApi>;
const newUser = () => `feed-${Crypto.randomUUID()}`;
const retentionDays = 30;

test.before(async (t) => {

    t.context = await startTestApi({ TRASH_RETENTION_DAYS: String(retentionDays) });
});

test.after.always(async (t) => {

    await t.context?.stop();
});


/** A client's copy of a user's tasks, and where it has synced to. */
interface Client {
    user: string;
    copy: Copy;
    cursor?: string;
}


async function page(api: TestApi, user: string, since: string | undefined, limit: number): Promise<ChangePage> {

    const query = new URLSearchParams({ limit: String(limit), ...(since === undefined ? {} : { since }) });
    const res = await api.request({ method: 'GET', url: `/api/changes?${query}`, as: user });
    if (res.statusCode !== 200) {
        throw new Error(`changes: ${res.statusCode} ${res.payload}`);
    }

    return res.result as ChangePage;
}


/** Applies every page after the client's cursor, in order, as a client would; each page names a task at most once. */
async function sync(t: ExecutionContext, api: TestApi, client: Client, limit = 100): Promise<number> {

    let changes = 0;
    for (;;) {
        const answer = await page(api, client.user, client.cursor, limit);
        t.true(answer.changes.length <= limit);
        const ids = answer.changes.map((change) => (change.op === 'upsert' ? (change.type === 'task' ? change.task.id : change.list.id) : change.id));
        t.is(new Set(ids).size, ids.length, 'a task at most once per page');

        for (const change of answer.changes) {
            if (change.type === 'task' && change.op === 'upsert') {
                t.is(change.task.user_id, client.user, 'only the user\'s own tasks');
                client.copy.set(change.task.id, { task: change.task, etag: change.etag });
            }
            else if (change.op === 'delete') {
                client.copy.delete(change.id);
            }
        }

        changes += answer.changes.length;
        client.cursor = answer.cursor;
        if (!answer.has_more) {
            return changes;
        }

        t.is(answer.changes.length, limit, 'a page with more after it is full');
    }
}


/** The user's live tasks as the API serves them one by one, with their ETags. */
async function liveState(api: TestApi, user: string): Promise<Copy> {

    const state: Copy = new Map();
    let url: string | undefined = '/api/tasks?limit=100';
    while (url) {
        const res = await api.request({ method: 'GET', url, as: user });
        for (const { id } of res.result as Task[]) {
            const one = await api.request({ method: 'GET', url: `/api/tasks/${id}`, as: user });
            state.set(id, { task: one.result as Task, etag: one.headers.etag as string });
        }

        const next = res.headers['x-next-cursor'];
        url = next ? `/api/tasks?limit=100&cursor=${next}` : undefined;
    }

    return state;
}


function sorted(copy: Copy): [string, { task: Task; etag: string }][] {

    return [...copy.entries()].sort(([a], [b]) => a.localeCompare(b));
}


async function matches(t: ExecutionContext, api: TestApi, client: Client, message: string): Promise<void> {

    t.deepEqual(sorted(client.copy), sorted(await liveState(api, client.user)), message);
}


// The writes a client can make, each aimed at one of the tasks made so far (by its index, wrapping) where it needs one.
type Write =
    | { kind: 'create'; completed: boolean }
    | { kind: 'keyed'; key: string }
    | { kind: 'put' | 'patch' | 'complete' | 'delete' | 'restore' | 'purge'; pick: number }
    | { kind: 'clear' | 'empty' }
    | { kind: 'sync'; client: number; limit: number };

const writes: fc.Arbitrary<Write> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), completed: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('keyed' as const), key: fc.constantFrom('k1', 'k2') }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('put' as const, 'patch' as const, 'complete' as const, 'delete' as const, 'restore' as const, 'purge' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('clear' as const, 'empty' as const) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), client: fc.nat({ max: 2 }), limit: fc.integer({ min: 1, max: 4 }) }) }
);


async function perform(api: TestApi, user: string, made: string[], write: Write): Promise<void> {

    const target = 'pick' in write && made.length ? made[write.pick % made.length] : Crypto.randomUUID();
    const send = (method: string, url: string, payload?: object, headers?: Record<string, string>) => api.request({ method, url, as: user, payload, headers });

    switch (write.kind) {
        case 'create': {
            const res = await send('POST', '/api/tasks', { title: `task ${made.length}`, completed: write.completed });
            made.push((res.result as Task).id);
            return;
        }

        case 'keyed': {
            const res = await send('POST', '/api/tasks', { title: `keyed ${write.key}` }, { 'idempotency-key': write.key });
            if (res.statusCode === 201 && !made.includes((res.result as Task).id)) {
                made.push((res.result as Task).id);
            }

            return;
        }

        case 'put':
            await send('PUT', `/api/tasks/${target}`, { title: `put ${Date.now()}`, priority: 'high' });
            return;
        case 'patch':
            await send('PATCH', `/api/tasks/${target}`, { description: `patched ${Date.now()}` });
            return;
        case 'complete':
            await send('PATCH', `/api/tasks/${target}/complete`);
            return;
        case 'delete':
            await send('DELETE', `/api/tasks/${target}`);
            return;
        case 'restore':
            await send('POST', `/api/trash/${target}/restore`);
            return;
        case 'purge':
            await send('DELETE', `/api/trash/${target}`);
            return;
        case 'clear':
            await send('DELETE', '/api/tasks?status=completed');
            return;
        case 'empty':
            await send('DELETE', '/api/trash');
            return;
    }
}


test('applying every page after a cursor, in order, to a copy as of that cursor gives the live tasks: same fields, same ETags', async (t) => {

    const api = t.context;
    await fc.assert(fc.asyncProperty(fc.array(writes, { minLength: 1, maxLength: 40 }), async (steps) => {

        const user = newUser();
        // Three clients that sync at different moments, with different page sizes; all start with nothing.
        const clients: Client[] = [0, 1, 2].map(() => ({ user, copy: new Map() }));
        const made: string[] = [];
        for (const step of steps) {
            if (step.kind === 'sync') {
                await sync(t, api, clients[step.client], step.limit);
            }
            else {
                await perform(api, user, made, step);
            }
        }

        for (const [i, client] of clients.entries()) {
            await sync(t, api, client, 1 + i);
            await matches(t, api, client, `client ${i}`);
        }

        // And a client that starts now: a full sync in the same format.
        const fresh: Client = { user, copy: new Map() };
        await sync(t, api, fresh, 3);
        await matches(t, api, fresh, 'a full sync');

        // Caught up, a client gets no change and keeps its place.
        const cursor = clients[0].cursor;
        t.is(await sync(t, api, clients[0]), 0);
        t.is(clients[0].cursor, cursor);
    }), { numRuns: Number(process.env.FEED_RUNS ?? 25), seed: process.env.FEED_SEED === undefined ? undefined : Number(process.env.FEED_SEED) });
});

test('without since, the feed is every live task once as an upsert; trashed ones are left out', async (t) => {

    const api = t.context;
    const user = newUser();
    const kept = await api.createTask(user, { title: 'kept' });
    const gone = await api.createTask(user, { title: 'gone' });
    await api.request({ method: 'PATCH', url: `/api/tasks/${kept.id}`, as: user, payload: { title: 'kept, renamed' } });
    await api.request({ method: 'DELETE', url: `/api/tasks/${gone.id}`, as: user });

    const answer = await page(api, user, undefined, 100);
    t.is(answer.has_more, false);
    t.deepEqual(answer.changes.map((change) => change.type === 'task' && change.op === 'upsert' && [change.task.id, change.task.title]), [[kept.id, 'kept, renamed']]);

    const empty = await page(api, newUser(), undefined, 100);
    t.deepEqual(empty.changes, []);
    t.is(empty.has_more, false);
});

test('every write path changes the feed, once: create, PUT, PATCH, /complete, delete, clear completed, restore; a replayed create does not', async (t) => {

    const api = t.context;
    const user = newUser();
    const client: Client = { user, copy: new Map() };
    await sync(t, api, client);

    const expectChange = async (label: string, write: () => Promise<{ statusCode: number }>, expected: [string, string][], status = 200) => {

        const res = await write();
        t.is(Math.floor(res.statusCode / 100) * 100, status, `${label}: ${res.statusCode}`);
        const before = client.cursor;
        const answer = await page(api, user, before, 100);
        t.deepEqual(answer.changes.map((change) => [change.op, change.op === 'upsert' ? (change.type === 'task' ? change.task.id : change.list.id) : change.id]), expected, label);
        await sync(t, api, client);
        await matches(t, api, client, label);
    };

    const send = (method: string, url: string, payload?: object, headers?: Record<string, string>) => {

        return () => api.request({ method, url, as: user, payload, headers });
    };

    const created = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'one', completed: true }, headers: { 'idempotency-key': 'once' } });
    const { id } = created.result as Task;
    await sync(t, api, client);

    await expectChange('a replayed create', send('POST', '/api/tasks', { title: 'one', completed: true }, { 'idempotency-key': 'once' }), []);
    await expectChange('PUT', send('PUT', `/api/tasks/${id}`, { title: 'one, put', completed: true }), [['upsert', id]]);
    await expectChange('PATCH', send('PATCH', `/api/tasks/${id}`, { priority: 'low' }), [['upsert', id]]);
    await expectChange('an empty PATCH', send('PATCH', `/api/tasks/${id}`, {}), []);
    await expectChange('/complete', send('PATCH', `/api/tasks/${id}/complete`, { completed: true }), [['upsert', id]]);
    await expectChange('clear completed', send('DELETE', '/api/tasks?status=completed'), [['delete', id]]);
    await expectChange('restore', send('POST', `/api/trash/${id}/restore`), [['upsert', id]]);
    await expectChange('delete', send('DELETE', `/api/tasks/${id}`), [['delete', id]]);

    const other = await api.createTask(user, { title: 'two' });
    const answer = await page(api, user, client.cursor, 100);
    t.deepEqual(answer.changes.map((change) => change.type === 'task' && change.op === 'upsert' && change.task.id), [other.id], 'create');

    // A refused write changes nothing.
    await sync(t, api, client);
    await expectChange('a 412', send('PATCH', `/api/tasks/${other.id}`, { title: 'x' }, { 'if-match': '"stale"' }), [], 400);
    await expectChange('a 404', send('PATCH', `/api/tasks/${Crypto.randomUUID()}`, { title: 'x' }), [], 400);
});

test('a task removed from the trash for good is still a delete for a client that synced before it was deleted', async (t) => {

    const api = t.context;
    const user = newUser();
    const task = await api.createTask(user, { title: 'doomed' });
    const early: Client = { user, copy: new Map() };
    await sync(t, api, early);
    t.true(early.copy.has(task.id));

    await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });
    const late: Client = { user, copy: new Map() };
    await sync(t, api, late);
    t.is((await api.request({ method: 'DELETE', url: `/api/trash/${task.id}`, as: user })).statusCode, 204);

    t.is(await sync(t, api, late), 0, 'nothing new for a client that saw the delete');
    await sync(t, api, early);
    t.false(early.copy.has(task.id));
    await matches(t, api, early, 'the early client');
});

test('a cursor older than what is remembered is 410; one later than anything the user has is 410', async (t) => {

    const api = t.context;
    const user = newUser();
    const old: Client = { user, copy: new Map() };
    await sync(t, api, old);

    const task = await api.createTask(user, { title: 'soon forgotten' });
    await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });
    const recent: Client = { user, copy: new Map() };
    await sync(t, api, recent);
    await api.request({ method: 'DELETE', url: `/api/trash/${task.id}`, as: user });

    // The tombstone passes the retention; the next trash write (anyone's: the other tests' too) forgets it.
    t.is((await page(api, user, old.cursor, 100)).changes.length, 1, 'remembered until removed');
    await api.database.db.knex.raw('update task_tombstones set deleted_at = deleted_at - ? * interval \'1 day\' where user_id = ?', [retentionDays + 1, user]);
    const other = newUser();
    const theirs = await api.createTask(other, { title: 'theirs' });
    await api.request({ method: 'DELETE', url: `/api/tasks/${theirs.id}`, as: other });

    const gone = await api.request({ method: 'GET', url: `/api/changes?since=${old.cursor}`, as: user });
    t.is(gone.statusCode, 410);
    t.regex((gone.result as { detail: string }).detail, /sync again from the start/);

    // A client that saw the delete is not affected; one that starts over catches up.
    t.is(await sync(t, api, recent), 0);
    const again: Client = { user, copy: new Map() };
    await sync(t, api, again);
    await matches(t, api, again, 'a new full sync');

    const ahead = await api.request({ method: 'GET', url: `/api/changes?since=${encodeFeedCursor(user, 1_000_000)}`, as: user });
    t.is(ahead.statusCode, 410);
});

test('a malformed cursor, or another user\'s, is 422 and shows nothing; limit is 1 to 1000', async (t) => {

    const api = t.context;
    const [alice, bob] = [newUser(), newUser()];
    await api.createTask(alice, { title: 'alice\'s' });
    const aliceClient: Client = { user: alice, copy: new Map() };
    await sync(t, api, aliceClient);

    const forged = Buffer.alloc(16).toString('base64url');
    for (const since of ['', 'x', 'AAAA', forged, `${aliceClient.cursor!}A`, '%00', encodeFeedCursor(alice, 0)]) {
        const res = await api.request({ method: 'GET', url: `/api/changes?since=${encodeURIComponent(since)}`, as: bob });
        t.is(res.statusCode, 422, since);
        t.false(res.payload.includes('alice'), since);
    }

    const foreign = await api.request({ method: 'GET', url: `/api/changes?since=${aliceClient.cursor}`, as: bob });
    t.is(foreign.statusCode, 422);
    t.deepEqual(foreign.result, { detail: [{ loc: ['query', 'since'], msg: 'since is not a cursor this service issued to this user; sync from the start without it', type: 'cursor.foreign' }] });

    for (const limit of ['0', '1001', 'x', '-1']) {
        t.is((await api.request({ method: 'GET', url: `/api/changes?limit=${limit}`, as: alice })).statusCode, 422, limit);
    }

    t.is((await api.request({ method: 'GET', url: '/api/changes?limit=1000', as: alice })).statusCode, 200);
    t.is((await api.request({ method: 'GET', url: '/api/changes', as: bob })).statusCode, 200);
    t.deepEqual((await page(api, bob, undefined, 100)).changes, []);
});

test('a write whose transaction commits after a later one started is not skipped: writes of a user commit in the order of their versions', async (t) => {

    const api = t.context;
    if (api.database.config.kind === 'pglite') {
        // The embedded database runs one transaction at a time: one held open holds every other statement.
        t.log('one transaction at a time on PGlite: commits cannot cross there');
        t.pass();
        return;
    }

    const user = newUser();
    const reader: Client = { user, copy: new Map() };
    await api.createTask(user, { title: 'before' });
    await sync(t, api, reader);

    // A slow write: the store's own statement, in a transaction held open.
    const trx = await api.database.db.knex.transaction();
    const onTrx: Query = async (statement, values) => {

        const { sql, bindings } = positional(statement, values);
        const result = await trx.raw(sql, bindings as Knex.RawBinding[]);
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    };

    let fast: Promise<Task> | undefined;
    try {
        const slow = await taskStore({ query: onTrx, transaction: (work) => work(onTrx) }, api.config.limits).createTaskForUser(user, { title: 'slow', description: null, completed: false, priority: 'medium', due_date: null });
        t.truthy(slow);

        // Fast writes start after it, and must wait for it: the reader sees neither yet.
        fast = api.createTask(user, { title: 'fast' });
        // Until it waits for the slow one's lock (or, were there no lock, until it is done).
        await Promise.race([waitForLockWait(api), fast]);
        t.is(await sync(t, api, reader), 0);
        await trx.commit();
    }
    finally {
        if (!trx.isCompleted()) {
            await trx.rollback();
        }
    }

    await fast;
    t.is(await sync(t, api, reader), 2);
    await matches(t, api, reader, 'the reader\'s copy');
});


/** Waits until a statement on this test's database waits for a lock: the fast write, behind the slow one. */
async function waitForLockWait(api: TestApi): Promise<void> {

    await waitFor('a statement waiting for a lock', async () => {

        const { rows } = await api.database.db.knex.raw('select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = \'Lock\'');
        return rows[0].n > 0;
    });
}


test('the bulk seed and the demo seed are changes in the feed', async (t) => {

    const api = t.context;
    const { db } = api.database;

    // Bulk: synthetic users; the first may have tasks of its own already.
    const first = syntheticUserId(1);
    const client: Client = { user: first, copy: new Map() };
    await api.createTask(first, { title: 'made before the seed' });
    await sync(t, api, client, 2);
    await bulkSeed(db, { users: 2, tasksPerUser: 5, listsPerUser: 2, batch: 2 });
    // Its two lists and five tasks.
    t.is(await sync(t, api, client, 2), 7);
    await matches(t, api, client, 'after the bulk seed');

    const demo: Client = { user: 'demo-alice', copy: new Map() };
    await sync(t, api, demo);
    await db.knex.seed.run();
    t.true(await sync(t, api, demo) > 0);
    await matches(t, api, demo, 'after the demo seed');
});
