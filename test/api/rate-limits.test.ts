import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { ApiRequest, TestApi } from '../helpers/api';
import { startTestApi, testSecret } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';
import { nowSec, signHs256 } from '../helpers/tokens';


// Each test starts a server of its own (budgets live in the server), on one database.
const test = anyTest as TestFn<{ shared: TestDatabase }>;

test.before(async (t) => {

    t.context.shared = await createTestDatabase();
});

test.after.always(async (t) => {

    await t.context.shared?.destroy();
});


const internals = {
    badToken: `Bearer ${signHs256({ alg: 'HS256', typ: 'JWT' }, { user_id: 'x', exp: nowSec() + 60 }, 'not-the-secret-but-long-enough-0123456789')}`,

    async api(t: { teardown(fn: () => Promise<void>): void; context: { shared: TestDatabase } }, env: Record<string, string>): Promise<TestApi> {

        const api = await startTestApi(env, t.context.shared);
        t.teardown(() => api.stop());
        return api;
    },

    /** Sends the same request n times, one after another; the statuses in order. */
    async statuses(api: TestApi, n: number, request: ApiRequest): Promise<number[]> {

        const statuses: number[] = [];
        for (let i = 0; i < n; ++i) {
            statuses.push((await api.request(request)).statusCode);
        }

        return statuses;
    },

    from: (address: string) => ({ remoteAddress: address })
};


test('a user past RATE_LIMIT_PER_MIN gets 429 with Retry-After and the RateLimit fields, and every answer says where the budget stands', async (t) => {

    const api = await internals.api(t, { RATE_LIMIT_PER_MIN: '3' });

    const answers = [];
    for (let i = 0; i < 4; ++i) {
        answers.push(await api.request({ method: 'GET', url: '/api/tasks', as: 'spender' }));
    }

    t.deepEqual(answers.map((res) => res.statusCode), [200, 200, 200, 429]);
    t.deepEqual(answers.map((res) => res.headers['ratelimit-policy']), Array(4).fill('"user";q=3;w=60'));
    t.deepEqual(answers.slice(0, 3).map((res) => String(res.headers.ratelimit).replace(/;t=\d+$/, '')), ['"user";r=2', '"user";r=1', '"user";r=0']);
    t.regex(String(answers[0].headers.ratelimit), /;t=(60|59)$/);

    const refused = answers[3];
    t.regex((refused.result as { detail: string }).detail, /^Too many requests: at most 3 a minute per user; try again in \d+ s$/);
    const retryAfter = Number(refused.headers['retry-after']);
    t.true(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    t.is(refused.headers.ratelimit, `"user";r=0;t=${retryAfter}`);
    t.truthy(refused.headers['x-request-id']);

    // Refused before its handler: a create past the budget creates nothing.
    const create = await api.request({ method: 'POST', url: '/api/tasks', as: 'spender', payload: { title: 'Past the budget' } });
    t.is(create.statusCode, 429);
    t.deepEqual((await api.tasks.listTasksForUser('spender', { limit: 10 })).tasks, []);
});

test('one user\'s spending never makes another user get 429, from the same address or any other', async (t) => {

    const api = await internals.api(t, { RATE_LIMIT_PER_MIN: '5' });

    t.deepEqual(await internals.statuses(api, 7, { method: 'GET', url: '/api/tasks/stats', as: 'heavy', ...internals.from('10.1.1.1') }), [200, 200, 200, 200, 200, 429, 429]);
    t.deepEqual(await internals.statuses(api, 5, { method: 'GET', url: '/api/tasks/stats', as: 'light', ...internals.from('10.1.1.1') }), [200, 200, 200, 200, 200]);
    t.deepEqual(await internals.statuses(api, 5, { method: 'GET', url: '/api/tasks/stats', as: 'other', ...internals.from('10.9.9.9') }), [200, 200, 200, 200, 200]);

    // The user is the budget, not the token or the address: a second token of the heavy user is refused too.
    const second = await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${signHs256({ alg: 'HS256' }, { user_id: 'heavy', exp: nowSec() + 120 }, testSecret)}` }, ...internals.from('10.2.2.2') });
    t.is(second.statusCode, 429);
});

test('the health probes are never counted nor refused', async (t) => {

    const api = await internals.api(t, { RATE_LIMIT_PER_MIN: '1', AUTH_FAILURES_PER_MIN: '1' });

    await internals.statuses(api, 3, { method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken } });
    for (const url of ['/health', '/health/live']) {
        const answers = await Promise.all(Array.from({ length: 5 }, () => api.request({ method: 'GET', url, headers: { authorization: internals.badToken } })));
        t.deepEqual(answers.map((res) => res.statusCode), [200, 200, 200, 200, 200], url);
        t.is(answers[0].headers['ratelimit-policy'], undefined);
    }
});

test('the public routes (docs, the contract) are counted per client address', async (t) => {

    const api = await internals.api(t, { RATE_LIMIT_PER_MIN: '2' });

    t.deepEqual(await internals.statuses(api, 3, { method: 'GET', url: '/openapi.yaml', ...internals.from('10.3.3.3') }), [200, 200, 429]);
    t.deepEqual(await internals.statuses(api, 1, { method: 'GET', url: '/docs', ...internals.from('10.3.3.3') }), [429]);
    t.deepEqual(await internals.statuses(api, 2, { method: 'GET', url: '/docs', ...internals.from('10.4.4.4') }), [200, 200]);

    const answer = await api.request({ method: 'GET', url: '/openapi.yaml', ...internals.from('10.5.5.5') });
    t.is(answer.headers['ratelimit-policy'], '"address";q=2;w=60');
});

test('past AUTH_FAILURES_PER_MIN an address gets 429 for any new token, even a valid one, unverified; tokens it used before still work', async (t) => {

    const api = await internals.api(t, { AUTH_FAILURES_PER_MIN: '3' });
    const attacker = internals.from('10.6.6.6');

    // A user behind the same address signed in before the guessing began.
    const knownToken = api.token('neighbour');
    t.is((await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${knownToken}` }, ...attacker })).statusCode, 200);

    const guesses = [];
    for (let i = 0; i < 5; ++i) {
        guesses.push(await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken }, ...attacker }));
    }

    t.deepEqual(guesses.map((res) => res.statusCode), [401, 401, 401, 429, 429]);
    t.deepEqual(guesses.slice(0, 3).map((res) => String(res.headers.ratelimit).replace(/;t=\d+$/, '')), ['"auth-failures";r=2', '"auth-failures";r=1', '"auth-failures";r=0']);
    t.is(guesses[0].headers['ratelimit-policy'], '"auth-failures";q=3;w=60');
    t.regex((guesses[3].result as { detail: string }).detail, /^Too many failed authentications from this address: at most 3 a minute; try again in \d+ s$/);
    t.truthy(guesses[3].headers['retry-after']);

    // A valid token never seen before is not even verified now; no header at all counts as a failure too.
    t.is((await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${api.token('guessed')}` }, ...attacker })).statusCode, 429);
    t.is((await api.request({ method: 'GET', url: '/api/tasks', ...attacker })).statusCode, 429);

    t.is((await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${knownToken}` }, ...attacker })).statusCode, 200);
    t.is((await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken }, ...internals.from('10.7.7.7') })).statusCode, 401, 'another address is another budget');
});

test('with no trusted proxy, X-Forwarded-For is ignored: a forged one neither escapes a budget nor spends another\'s', async (t) => {

    const api = await internals.api(t, { AUTH_FAILURES_PER_MIN: '2' });

    const statuses = [];
    for (let i = 0; i < 4; ++i) {
        const res = await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken, 'x-forwarded-for': `192.0.2.${i}` }, ...internals.from('10.8.8.8') });
        statuses.push(res.statusCode);
    }

    t.deepEqual(statuses, [401, 401, 429, 429]);
    const victim = await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken }, ...internals.from('192.0.2.1') });
    t.is(victim.statusCode, 401);
});

test('behind TRUST_PROXY proxies, the client is the address the outermost trusted proxy saw', async (t) => {

    const api = await internals.api(t, { AUTH_FAILURES_PER_MIN: '2', TRUST_PROXY: '1' });
    const proxy = internals.from('10.0.0.2');
    const fail = (forwardedFor: string) => api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken, 'x-forwarded-for': forwardedFor }, ...proxy });

    // Two clients behind the one proxy have a budget each; what a client writes in front of its entry is its own.
    t.deepEqual([(await fail('198.51.100.1')).statusCode, (await fail('198.51.100.1')).statusCode, (await fail('198.51.100.1')).statusCode], [401, 401, 429]);
    t.is((await fail('198.51.100.2')).statusCode, 401);
    t.is((await fail('203.0.113.9, 198.51.100.1')).statusCode, 429, 'a forged entry in front changes nothing');
    t.is((await fail('198.51.100.1, 198.51.100.3')).statusCode, 401, 'the proxy\'s own entry counts');
    t.deepEqual([(await fail('not-an-address')).statusCode, (await fail('')).statusCode, (await fail('junk')).statusCode], [401, 401, 429],
        'an entry that is no address, or none, falls back to the connection\'s');

    // IPv6 clients are counted by their /64; IPv4-mapped addresses are IPv4.
    t.is((await fail('2001:db8:1:2::1')).statusCode, 401);
    t.is((await fail('2001:db8:1:2:ffff::9')).statusCode, 401);
    t.is((await fail('2001:0db8:0001:0002::77')).statusCode, 429);
    t.is((await fail('::ffff:198.51.100.2')).statusCode, 401);
    t.is((await fail('198.51.100.2')).statusCode, 429);
});

test('RATE_LIMIT_PER_MIN=0 and AUTH_FAILURES_PER_MIN=0 turn the budgets off', async (t) => {

    const api = await internals.api(t, { RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0' });

    t.deepEqual(await internals.statuses(api, 3, { method: 'GET', url: '/api/tasks', headers: { authorization: internals.badToken } }), [401, 401, 401]);
    const answer = await api.request({ method: 'GET', url: '/api/tasks', as: 'unlimited' });
    t.is(answer.statusCode, 200);
    t.is(answer.headers.ratelimit, undefined);
    t.is(answer.headers['ratelimit-policy'], undefined);
});
