import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';
import Pg from 'pg';

import type { Task } from '../../src/common/tasks';
import type { Query } from '../../src/data/query';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { waitFor } from '../helpers/wait';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `keyed-${Crypto.randomUUID()}`;

test.before(async (t) => {

    t.context = await startTestApi({ IDEMPOTENCY_KEY_TTL_S: '120' });
});

test.after.always(async (t) => {

    await t.context?.stop();
});


function post(api: TestApi, user: string, key: string | undefined, payload: object) {

    return api.request({ method: 'POST', url: '/api/tasks', as: user, headers: key === undefined ? {} : { 'idempotency-key': key }, payload });
}


async function taskCount(api: TestApi, user: string): Promise<number> {

    const { rows } = await api.database.db.knex.raw('select count(*)::int as count from tasks where user_id = ? and deleted_at is null', [user]);
    return rows[0].count;
}


test('a retry with the same key and fields answers as the first did, marked replayed, and creates nothing', async (t) => {

    const api = t.context;
    const user = newUser();
    const key = Crypto.randomUUID();
    const fields = { title: 'Pay rent', priority: 'high', due_date: '2027-01-01T09:00:00Z' };

    const first = await post(api, user, key, fields);
    t.is(first.statusCode, 201);
    t.is(first.headers['idempotent-replayed'], undefined);

    for (const retry of [fields, { ...fields, title: '  Pay rent ', description: null, completed: false }]) {
        const again = await post(api, user, key, retry);
        t.is(again.statusCode, 201);
        t.is(again.headers['idempotent-replayed'], 'true');
        t.deepEqual(again.result, first.result);
        t.is(again.headers.location, first.headers.location);
        t.is(again.headers.etag, first.headers.etag);
    }

    t.is(await taskCount(api, user), 1);
});

test('the same key with different fields is a 422 naming the header, and creates nothing', async (t) => {

    const api = t.context;
    const user = newUser();
    const key = 'order-42';
    t.is((await post(api, user, key, { title: 'first' })).statusCode, 201);

    for (const other of [{ title: 'second' }, { title: 'first', priority: 'low' }, { title: 'first', completed: true }]) {
        const res = await post(api, user, key, other);
        t.is(res.statusCode, 422);
        const [issue] = (res.result as { detail: { loc: string[]; type: string }[] }).detail;
        t.deepEqual(issue.loc, ['header', 'idempotency-key']);
        t.is(issue.type, 'idempotency.reused');
    }

    t.is(await taskCount(api, user), 1);
});

test('keys belong to their user: another user\'s same key is a key of its own', async (t) => {

    const api = t.context;
    const [alice, bob] = [newUser(), newUser()];
    const key = 'shared-looking-key';

    const mine = await post(api, alice, key, { title: 'alice' });
    const theirs = await post(api, bob, key, { title: 'bob' });
    t.is(theirs.statusCode, 201);
    t.is(theirs.headers['idempotent-replayed'], undefined);
    t.not((theirs.result as Task).id, (mine.result as Task).id);
    t.is((theirs.result as Task).user_id, bob);

    const replay = await post(api, bob, key, { title: 'bob' });
    t.is((replay.result as Task).id, (theirs.result as Task).id);
});

test('malformed keys are a 422 on the header, and create nothing', async (t) => {

    const api = t.context;
    const user = newUser();
    for (const key of ['', 'k'.repeat(256), 'caf\u00e9']) {
        const res = await post(api, user, key, { title: 'x' });
        t.is(res.statusCode, 422, JSON.stringify(key));
        t.deepEqual((res.result as { detail: { loc: string[] }[] }).detail[0].loc, ['header', 'idempotency-key']);
    }

    t.is(await taskCount(api, user), 0);
    t.is((await post(api, user, 'k'.repeat(255), { title: 'longest key' })).statusCode, 201);
    t.is((await post(api, user, ' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~', { title: 'every printable' })).statusCode, 201);
});

test('50 concurrent POSTs with one key and one body create exactly one task and all get its id', async (t) => {

    const api = t.context;
    const user = newUser();
    const key = Crypto.randomUUID();

    const responses = await Promise.all(Array.from({ length: 50 }, () => post(api, user, key, { title: 'exactly once' })));

    t.true(responses.every((res) => res.statusCode === 201), responses.map((res) => res.statusCode).join(' '));
    const ids = new Set(responses.map((res) => (res.result as Task).id));
    t.is(ids.size, 1);
    t.is(responses.filter((res) => res.headers['idempotent-replayed'] === undefined).length, 1, 'one created it, 49 were answered from the key');
    t.is(await taskCount(api, user), 1);

    const { rows } = await api.database.db.knex.raw('select task_id from idempotency_keys where user_id = ?', [user]);
    t.deepEqual(rows.map((row: { task_id: string }) => row.task_id), [...ids]);
});

test('concurrent retries with one key but different bodies: one task, the others replayed or refused', async (t) => {

    const api = t.context;
    const user = newUser();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => post(api, user, 'contested', { title: `body ${i % 2}` })));

    const created = responses.filter((res) => res.statusCode === 201);
    t.is(new Set(created.map((res) => (res.result as Task).id)).size, 1);
    const winner = (created[0].result as Task).title;
    t.true(responses.every((res) => (res.statusCode === 201 ? (res.result as Task).title === winner : res.statusCode === 422)));
    t.is(await taskCount(api, user), 1);
});

test('the stored answer is replayed as it was, even after the task changed or was deleted: never a second task', async (t) => {

    const api = t.context;
    const user = newUser();
    const first = await post(api, user, 'k1', { title: 'original' });
    const task = first.result as Task;

    await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { title: 'edited' } });
    const afterEdit = await post(api, user, 'k1', { title: 'original' });
    t.deepEqual(afterEdit.result, task);

    await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: user });
    const afterDelete = await post(api, user, 'k1', { title: 'original' });
    t.is(afterDelete.statusCode, 201);
    t.is(afterDelete.headers['idempotent-replayed'], 'true');
    t.is(await taskCount(api, user), 0, 'a late retry does not bring the deleted task back');
});

// Serial (ava runs these before the others): they count expired keys, which the other tests' creates clean.
test.serial('keys last IDEMPOTENCY_KEY_TTL_S; an expired key is forgotten and can be used again', async (t) => {

    const api = t.context;
    const { db } = api.database;
    const user = newUser();
    const first = await post(api, user, 'reused-later', { title: 'first life' });

    const { rows } = await db.knex.raw('select extract(epoch from expires_at - created_at)::int as ttl from idempotency_keys where user_id = ?', [user]);
    t.is(rows[0].ttl, 120);

    // Time passes: the key expires (and is not cleaned yet).
    await db.knex.raw('update idempotency_keys set expires_at = now() - interval \'1 second\' where user_id = ?', [user]);

    const second = await post(api, user, 'reused-later', { title: 'first life' });
    t.is(second.statusCode, 201);
    t.is(second.headers['idempotent-replayed'], undefined);
    t.not((second.result as Task).id, (first.result as Task).id);

    const third = await post(api, user, 'reused-later', { title: 'first life' });
    t.is((third.result as Task).id, (second.result as Task).id, 'the new use of the key is remembered');
    t.is(await taskCount(api, user), 2);
});

test.serial('expired keys are cleaned by later keyed creates, oldest first, without any other job', async (t) => {

    const api = t.context;
    const { db } = api.database;
    const stale = `stale-${Crypto.randomUUID()}`;

    await db.knex.raw(`
        insert into idempotency_keys (user_id, key, fingerprint, task_id, response, expires_at)
        select ?, 'old-' || n, 'x', gen_random_uuid(), '{}', now() - n * interval '1 minute'
        from generate_series(1, 40) as n`, [stale]);

    const expired = async () => {

        const { rows } = await db.knex.raw('select count(*)::int as count from idempotency_keys where expires_at <= now()');
        return rows[0].count;
    };

    t.is(await expired(), 40);

    const user = newUser();
    await post(api, user, 'cleaner-1', { title: 'a' });
    t.is(await expired(), 24, 'one keyed create removes up to 16 expired keys');

    const { rows: left } = await db.knex.raw('select max(split_part(key, \'-\', 2)::int) as oldest from idempotency_keys where user_id = ?', [stale]);
    t.is(left[0].oldest, 24, 'the oldest went first');

    await post(api, user, 'cleaner-2', { title: 'a' });
    await post(api, user, 'cleaner-3', { title: 'a' });
    t.is(await expired(), 0);
    t.is(await taskCount(api, user), 3);

    // Unkeyed creates do not pay for the cleaning.
    await db.knex.raw('update idempotency_keys set expires_at = now() - interval \'1 second\' where user_id = ?', [user]);
    const keys = await expired();
    await post(api, user, undefined, { title: 'no key' });
    t.is(await expired(), keys);
});

// Serial: the other tests' keyed creates would clean the expired keys this one records as another request.
test.serial('a create whose key is recorded and lost again on each attempt gives up with a 409 asking for a retry, and creates nothing', async (t) => {

    const api = t.context;
    const url = postgresUrl(t, api);
    if (!url) {
        return;
    }

    const { knex } = api.database.db;
    const user = newUser();
    const key = 'never-settled';
    // The user's version row, which every write of the user's tasks locks: where each attempt can be held.
    await knex.raw('insert into user_versions (user_id, version) values (?, 0)', [user]);

    let gate: Holder | null = await versionLock(url, user);
    const holders = [gate];
    try {
        const answer = post(api, user, key, { title: 'mine' });
        const state = { answered: false };
        const settle = () => {

            state.answered = true;
        };

        answer.then(settle, settle);

        // The store makes three attempts (keyedAttempts); each one finds the key taken, then finds no answer in it.
        for (let attempt = 1; attempt <= 3; ++attempt) {
            const held: Holder = gate!;
            // The attempt took its snapshot (without the key) and waits for the user's version row.
            await waitFor(`attempt ${attempt} to wait for the version row`, async () => {

                if (state.answered) {
                    throw new Error(`answered before attempt ${attempt}`);
                }

                return (await waitingOn(knex, held.pid)).length > 0;
            });

            // Another request records the key meanwhile, with an answer that has expired by the time it is read
            // (it was held open for longer than the key is kept).
            await knex.raw(`
                insert into idempotency_keys (user_id, key, fingerprint, task_id, response, expires_at)
                values (?, ?, 'another request', gen_random_uuid(), '{}', now() - interval '1 second')`, [user, key]);

            // The next attempt will wait here again: the next holder queues on the row behind this attempt.
            gate = null;
            if (attempt < 3) {
                gate = await versionLock(url, user, { queued: true });
                holders.push(gate);
                const queued = gate;
                await waitFor('the next holder to queue on the version row', async () => (await blockers(knex, queued.pid)).length > 0);
            }

            await held.release();
        }

        const res = await answer;
        t.is(res.statusCode, 409, res.payload);
        t.deepEqual(Object.keys(res.result as object), ['detail']);
        t.regex((res.result as { detail: string }).detail, /Idempotency-Key .*retry/);
    }
    finally {
        await Promise.all(holders.map((holder) => holder.release()));
    }

    t.is(await taskCount(api, user), 0, 'each attempt\'s task went back with it');
    t.deepEqual((await knex.raw('select key from idempotency_keys where user_id = ?', [user])).rows, [], 'the expired answer was cleaned');

    // The retry it asks for creates the task, once.
    const retry = await post(api, user, key, { title: 'mine' });
    t.is(retry.statusCode, 201);
    t.is((await post(api, user, key, { title: 'mine' })).headers['idempotent-replayed'], 'true');
    t.is(await taskCount(api, user), 1);
});

// Serial, as the one above. The same path with the other request's statements put between this one's by hand: it
// needs no second connection, so it runs on PGlite too.
test.serial('a create that finds its key taken by an expired answer at each attempt gives up with a 409, and creates nothing', async (t) => {

    const { database } = t.context;
    const { db } = database;
    const user = newUser();
    const key = 'taken-each-time';
    let interleaved = 0;
    const query: Query = async (statement, values) => {

        // Before each of the first three attempts, another request records the key (its answer expired by now).
        if (statement.name === 'tasks.create-once' && values[0] === user && interleaved < 3) {
            ++interleaved;
            await db.knex.raw(`
                insert into idempotency_keys (user_id, key, fingerprint, task_id, response, expires_at)
                values (?, ?, 'another request', gen_random_uuid(), '{}', now() - interval '1 second')`, [user, key]);
        }

        return db.query(statement, values);
    };

    const api = await startTestApi({ IDEMPOTENCY_KEY_TTL_S: '120' }, { ...database, db: { ...db, query } });
    t.teardown(() => api.stop());

    const res = await post(api, user, key, { title: 'mine' });
    t.is(res.statusCode, 409, res.payload);
    t.regex((res.result as { detail: string }).detail, /Idempotency-Key .*retry/);
    t.is(interleaved, 3);
    t.is(await taskCount(api, user), 0);

    const retry = await post(api, user, key, { title: 'mine' });
    t.is(retry.statusCode, 201);
    t.is(retry.headers['idempotent-replayed'], undefined);
    t.is(await taskCount(api, user), 1);
});

test('a create racing a first request with the same key that is still open waits for it and answers with its task', async (t) => {

    const api = t.context;
    const url = postgresUrl(t, api);
    if (!url) {
        return;
    }

    const { knex } = api.database.db;
    const user = newUser();
    const key = Crypto.randomUUID();
    await knex.raw('insert into user_versions (user_id, version) values (?, 0)', [user]);

    // Both requests take their snapshots (without the key) and wait for the user's version row, the first one first.
    const gate = await versionLock(url, user);
    let first: ReturnType<typeof post> | undefined;
    let second: ReturnType<typeof post> | undefined;
    try {
        first = post(api, user, key, { title: 'once' });
        const [waiting] = await waitFor('the first request to wait', async () => {

            const pids = await waitingOn(knex, gate.pid);
            return pids.length > 0 && pids;
        });
        second = post(api, user, key, { title: 'once' });
        // Behind the first (which holds its place in the row's queue), or behind the holder with it.
        await waitFor('the second request to wait', async () => (await waitingOn(knex, waiting)).length > 0 || (await waitingOn(knex, gate.pid)).length > 1);
    }
    finally {
        await gate.release();
    }

    // The first creates; the second's own task goes back when it meets the first's key, and it answers with that.
    const [created, raced] = await Promise.all([first!, second!]);
    t.is(created.statusCode, 201);
    t.is(created.headers['idempotent-replayed'], undefined);
    t.is(raced.statusCode, 201);
    t.is(raced.headers['idempotent-replayed'], 'true');
    t.deepEqual(raced.result, created.result);
    t.is(await taskCount(api, user), 1);
});

test('a user keeps at most IDEMPOTENCY_KEYS_PER_USER keys: a new one makes the oldest be forgotten, and no other user\'s', async (t) => {

    const api = await startTestApi({ IDEMPOTENCY_KEYS_PER_USER: '3' }, t.context.database);
    t.teardown(() => api.stop());
    const [user, other] = [newUser(), newUser()];
    const keysOf = async (who: string) => (await api.database.db.knex.raw('select key from idempotency_keys where user_id = ? order by key', [who])).rows.map((row: { key: string }) => row.key);

    t.is((await post(api, other, 'k0', { title: 'other user' })).statusCode, 201);
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) {
        t.is((await post(api, user, key, { title: key })).statusCode, 201);
    }

    t.deepEqual(await keysOf(user), ['k3', 'k4', 'k5']);
    t.deepEqual(await keysOf(other), ['k0']);

    // A kept key still answers as before; a forgotten one is a new create.
    t.is((await post(api, user, 'k5', { title: 'k5' })).headers['idempotent-replayed'], 'true');
    t.is((await post(api, user, 'k1', { title: 'k1' })).headers['idempotent-replayed'], undefined);
    t.is(await taskCount(api, user), 6);
    t.deepEqual(await keysOf(user), ['k1', 'k4', 'k5']);
});


/** The test database's URL on PostgreSQL; on PGlite, which runs one statement at a time so no two requests race, null. */
function postgresUrl(t: ExecutionContext, api: TestApi): string | null {

    const { config } = api.database;
    if (config.kind !== 'postgres') {
        t.log('one statement at a time on PGlite: requests cannot race there');
        t.pass();
        return null;
    }

    return config.url;
}


/** A transaction of the test's own on a connection of its own, holding (or queued for) a lock. */
interface Holder {
    pid: number;
    /** Rolls the transaction back (once the lock is held) and closes the connection; safe to call twice. */
    release(): Promise<void>;
}


/** Locks the user's version row, as a write of the user's tasks does; with queued, does not wait to hold it. */
async function versionLock(url: string, user: string, options: { queued?: boolean } = {}): Promise<Holder> {

    const client = new Pg.Client({ connectionString: url });
    await client.connect();
    await client.query('begin');
    const { rows } = await client.query('select pg_backend_pid() as pid');
    const locked = client.query('select version from user_versions where user_id = $1 for update', [user]);
    if (!options.queued) {
        await locked;
    }

    let released: Promise<void> | null = null;
    return {
        pid: rows[0].pid,
        release() {

            released ??= (async () => {

                try {
                    await locked;
                    await client.query('rollback');
                }
                finally {
                    await client.end();
                }
            })();

            return released;
        }
    };
}


/** The sessions that the session `pid` waits for. */
async function blockers(knex: TestApi['database']['db']['knex'], pid: number): Promise<number[]> {

    const { rows } = await knex.raw('select unnest(pg_blocking_pids(?)) as pid', [pid]);
    return rows.map((row: { pid: number }) => row.pid);
}


/** The database sessions waiting for a lock that the session `pid` holds. */
async function waitingOn(knex: TestApi['database']['db']['knex'], pid: number): Promise<number[]> {

    const { rows } = await knex.raw('select pid from pg_stat_activity where datname = current_database() and ? = any(pg_blocking_pids(pid))', [pid]);
    return rows.map((row: { pid: number }) => row.pid);
}
