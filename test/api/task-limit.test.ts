import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;
const newUser = () => `limited-${Crypto.randomUUID()}`;
const max = 5;

test.before(async (t) => {

    t.context = await startTestApi({ MAX_TASKS_PER_USER: String(max) });
});

test.after.always(async (t) => {

    await t.context?.stop();
});


async function taskCount(api: TestApi, user: string): Promise<number> {

    const { rows } = await api.database.db.knex.raw('select count(*)::int as count from tasks where user_id = ?', [user]);
    return rows[0].count;
}


test('a user holds at most MAX_TASKS_PER_USER tasks: the create past it is a 409 that creates nothing', async (t) => {

    const api = t.context;
    const user = newUser();
    const ids: string[] = [];
    for (let i = 0; i < max; ++i) {
        ids.push((await api.createTask(user, { title: `#${i}` })).id);
    }

    for (const headers of [{}, { 'idempotency-key': 'one-more' }]) {
        const res = await api.request({ method: 'POST', url: '/api/tasks', as: user, headers, payload: { title: 'one too many' } });
        t.is(res.statusCode, 409);
        t.deepEqual(res.result, { detail: `Task limit reached: a user can hold at most ${max} tasks; delete some first` });
    }

    t.is(await taskCount(api, user), max);

    // Other users are not affected, and room made is room to use.
    t.is((await api.request({ method: 'POST', url: '/api/tasks', as: newUser(), payload: { title: 'elsewhere' } })).statusCode, 201);
    await api.request({ method: 'DELETE', url: `/api/tasks/${ids[0]}`, as: user });
    t.is((await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'fits again' } })).statusCode, 201);
    t.is((await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'full again' } })).statusCode, 409);
});

test('a keyed create the limit refuses is not remembered: the same key works once there is room', async (t) => {

    const api = t.context;
    const user = newUser();
    const post = () => api.request({ method: 'POST', url: '/api/tasks', as: user, headers: { 'idempotency-key': 'wait-for-room' }, payload: { title: 'one more' } });
    const ids: string[] = [];
    for (let i = 0; i < max; ++i) {
        ids.push((await api.createTask(user, { title: `#${i}` })).id);
    }

    const refused = await post();
    t.is(refused.statusCode, 409);

    await api.request({ method: 'DELETE', url: `/api/tasks/${ids[0]}`, as: user });
    const created = await post();
    t.is(created.statusCode, 201);
    t.is(created.headers['idempotent-replayed'], undefined);

    // Full again, but a replay creates nothing, so it needs no room.
    const replayed = await post();
    t.is(replayed.statusCode, 201);
    t.is(replayed.headers['idempotent-replayed'], 'true');
    t.is(await taskCount(api, user), max);
});

test('a burst of concurrent creates passes the limit by at most the connections that can insert at once, minus one', async (t) => {

    const api = t.context;
    const { database } = api.config;
    // Each create is one statement on one connection: creates running at once each count only the tasks committed
    // before they started, so at most (connections - 1) of them can be let in past the limit (see docs/api.md).
    const connections = database.kind === 'postgres' ? database.poolMax : 1;
    const bound = max + connections - 1;

    for (let round = 0; round < 3; ++round) {
        const user = newUser();
        const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => {

            return api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: `burst ${i}` } });
        }));

        const created = responses.filter((res) => res.statusCode === 201).length;
        t.true(responses.every((res) => res.statusCode === 201 || res.statusCode === 409));
        t.true(created >= max, `${created} created: every refused create saw the limit reached`);
        t.true(created <= bound, `${created} created, at most ${bound} allowed`);
        t.is(await taskCount(api, user), created, 'every 201 is a stored task and every 409 created nothing');
        t.log(`round ${round}: ${created} of 60 created (limit ${max}, bound ${bound})`);
    }
});
