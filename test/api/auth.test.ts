import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';
import type { RequestRoute, RouteOptionsAccess } from '@hapi/hapi';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi, testSecret } from '../helpers/api';
import { nowSec, signHs256, unsigned } from '../helpers/tokens';


const test = anyTest as TestFn<TestApi>;
const header = { alg: 'HS256', typ: 'JWT' };
const valid = () => ({ user_id: 'auth-user', iat: nowSec(), exp: nowSec() + 300 });

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


const refused = test.macro(async (t, authorization: string | undefined) => {

    const res = await t.context.request({ method: 'GET', url: '/api/tasks', headers: authorization === undefined ? {} : { authorization } });
    t.is(res.statusCode, 401);
    t.deepEqual(res.result, { detail: 'Invalid authentication credentials' });
    // RFC 6750: the scheme, and whether a token came that is not valid; never why.
    t.is(res.headers['www-authenticate'], authorization === undefined ? 'Bearer' : 'Bearer error="invalid_token"');
});

const accepted = test.macro(async (t, authorization: string, expectedUser: string) => {

    const created = await t.context.request({ method: 'POST', url: '/api/tasks', headers: { authorization }, payload: { title: 'auth' } });
    t.is(created.statusCode, 201);
    t.is((created.result as Task).user_id, expectedUser);
});


test('no Authorization header', refused, undefined);
test('empty Authorization header', refused, '');
test('scheme without a token', refused, 'Bearer');
test('a token that is not a JWT', refused, 'Bearer not-a-token');
test('three parts of garbage', refused, 'Bearer a.b.c');
test('a token followed by more words', refused, `Bearer ${signHs256(header, valid(), testSecret)} extra`);
test('a token followed by a tab', refused, `Bearer ${signHs256(header, valid(), testSecret)}\t`);
test('two spaces after the scheme', accepted, `Bearer  ${signHs256(header, valid(), testSecret)}`, 'auth-user');
test('another scheme', refused, `Basic ${Buffer.from('user:pass').toString('base64')}`);
test('a bare token without a scheme', refused, signHs256(header, valid(), testSecret));
test('a token signed with another secret', refused, `Bearer ${signHs256(header, valid(), 'another-secret-that-is-also-long-enough!!')}`);
test('a tampered payload', refused, `Bearer ${(() => {

    const [h, , s] = signHs256(header, valid(), testSecret).split('.');
    return `${h}.${Buffer.from(JSON.stringify({ ...valid(), user_id: 'admin' })).toString('base64url')}.${s}`;
})()}`);
test('an expired token', refused, `Bearer ${signHs256(header, { ...valid(), iat: nowSec() - 7200, exp: nowSec() - 3600 }, testSecret)}`);
test('a token with no exp', refused, `Bearer ${signHs256(header, { user_id: 'auth-user', iat: nowSec() }, testSecret)}`);
test('a non-numeric exp', refused, `Bearer ${signHs256(header, { user_id: 'auth-user', exp: 'tomorrow' }, testSecret)}`);
test('nbf in the future', refused, `Bearer ${signHs256(header, { ...valid(), nbf: nowSec() + 3600 }, testSecret)}`);
test('iat in the future', refused, `Bearer ${signHs256(header, { ...valid(), iat: nowSec() + 3600, exp: nowSec() + 7200 }, testSecret)}`);
test('alg none', refused, `Bearer ${unsigned(valid())}`);
test('alg none with the HS256 signature kept', refused, `Bearer ${(() => {

    const [, p, s] = signHs256(header, valid(), testSecret).split('.');
    return `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.${s}`;
})()}`);
test('an algorithm that is not configured (HS512 with the right secret)', refused, `Bearer ${(() => {

    const body = `${Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(valid())).toString('base64url')}`;
    return `${body}.${Crypto.createHmac('sha512', testSecret).update(body).digest('base64url')}`;
})()}`);
test('algorithm confusion (RS256 header, HMAC signature with the secret)', refused, `Bearer ${signHs256({ alg: 'RS256', typ: 'JWT' }, valid(), testSecret)}`);
test('neither user_id nor sub', refused, `Bearer ${signHs256(header, { iat: nowSec(), exp: nowSec() + 300 }, testSecret)}`);
test('an empty user_id and no sub', refused, `Bearer ${signHs256(header, { user_id: '', iat: nowSec(), exp: nowSec() + 300 }, testSecret)}`);
test('a non-string user_id and no sub', refused, `Bearer ${signHs256(header, { user_id: { id: 1 }, exp: nowSec() + 300 }, testSecret)}`);

test('a valid token is accepted', accepted, `Bearer ${signHs256(header, valid(), testSecret)}`, 'auth-user');
test('a NUL character in user_id', refused, `Bearer ${signHs256(header, { ...valid(), user_id: 'a\u0000b' }, testSecret)}`);
test('a NUL character in sub', refused, `Bearer ${signHs256(header, { sub: '\u0000', exp: nowSec() + 300 }, testSecret)}`);
test('a lone surrogate in user_id (it would be stored as U+FFFD, another user)', refused, `Bearer ${signHs256(header, { ...valid(), user_id: 'a\ud800' }, testSecret)}`);
test('a user_id longer than 255 characters', refused, `Bearer ${signHs256(header, { ...valid(), user_id: 'u'.repeat(256) }, testSecret)}`);
test('an unusable user_id does not fall back to sub', refused, `Bearer ${signHs256(header, { ...valid(), user_id: 'a\u0000', sub: 'someone' }, testSecret)}`);
test('an unknown critical header extension (RFC 7515 crit)', refused, `Bearer ${signHs256({ ...header, crit: ['x-unknown'], 'x-unknown': 1 }, valid(), testSecret)}`);
test('an empty crit list', refused, `Bearer ${signHs256({ ...header, crit: [] }, valid(), testSecret)}`);
test('a 255-character user_id is a user', accepted, `Bearer ${signHs256(header, { ...valid(), user_id: 'u'.repeat(255) }, testSecret)}`, 'u'.repeat(255));
test('sub is the user when user_id is absent', accepted, `Bearer ${signHs256(header, { sub: 'sub-user', exp: nowSec() + 300 }, testSecret)}`, 'sub-user');
test('user_id wins over sub', accepted, `Bearer ${signHs256(header, { user_id: 'claim-user', sub: 'sub-user', exp: nowSec() + 300 }, testSecret)}`, 'claim-user');
test('the scheme is case-insensitive (lowercase bearer)', accepted, `bearer ${signHs256(header, valid(), testSecret)}`, 'auth-user');
test('a token without typ is accepted', accepted, `Bearer ${signHs256({ alg: 'HS256' }, valid(), testSecret)}`, 'auth-user');
test('a token that lives for ever (exp in the year 2126)', refused, `Bearer ${signHs256(header, { user_id: 'auth-user', exp: nowSec() + 100 * 365 * 86_400 }, testSecret)}`);
test('a token that lives for ever (exp 1e300)', refused, `Bearer ${signHs256(header, { user_id: 'auth-user', exp: 1e300 }, testSecret)}`);
test('exp more than JWT_MAX_LIFETIME_S (a day) ahead of now', refused, `Bearer ${signHs256(header, { ...valid(), exp: nowSec() + 86_400 + 3600 }, testSecret)}`);
test('exp more than JWT_MAX_LIFETIME_S after iat, though near', refused, `Bearer ${signHs256(header, { ...valid(), iat: nowSec() - 2 * 86_400, exp: nowSec() + 60 }, testSecret)}`);
test('exp exactly JWT_MAX_LIFETIME_S ahead is accepted', accepted, `Bearer ${signHs256(header, { ...valid(), exp: nowSec() + 86_400 }, testSecret)}`, 'auth-user');
test('typed as another kind of token (logout+jwt)', refused, `Bearer ${signHs256({ alg: 'HS256', typ: 'logout+jwt' }, valid(), testSecret)}`);
test('typed as a security event token (secevent+jwt)', refused, `Bearer ${signHs256({ alg: 'HS256', typ: 'application/secevent+jwt' }, valid(), testSecret)}`);
test('typed JOSE', refused, `Bearer ${signHs256({ alg: 'HS256', typ: 'JOSE' }, valid(), testSecret)}`);
test('a typ that is not text', refused, `Bearer ${signHs256({ alg: 'HS256', typ: 1 }, valid(), testSecret)}`);
test('typ jwt in lower case is accepted', accepted, `Bearer ${signHs256({ alg: 'HS256', typ: 'jwt' }, valid(), testSecret)}`, 'auth-user');
test('typ at+jwt (RFC 9068) is accepted', accepted, `Bearer ${signHs256({ alg: 'HS256', typ: 'at+jwt' }, valid(), testSecret)}`, 'auth-user');
test('typ application/AT+JWT is accepted', accepted, `Bearer ${signHs256({ alg: 'HS256', typ: 'application/AT+JWT' }, valid(), testSecret)}`, 'auth-user');
test('iat a few seconds ahead is within the clock skew', accepted, `Bearer ${signHs256(header, { ...valid(), iat: nowSec() + 5 }, testSecret)}`, 'auth-user');

test('the token is read from the Authorization header only', async (t) => {

    const token = signHs256(header, valid(), testSecret);
    const query = await t.context.request({ method: 'GET', url: `/api/tasks?access_token=${token}&token=${token}` });
    t.is(query.statusCode, 401);

    const cookie = await t.context.request({ method: 'GET', url: '/api/tasks', headers: { cookie: `token=${token}; better-auth.session_token=${token}` } });
    t.is(cookie.statusCode, 401);
});

test('every route needs a token except health and docs', (t) => {

    const { server } = t.context;

    // A route left on the default has no auth settings of its own; opting out is false, weakening is a mode.
    const isPublic = (route: RequestRoute) => {

        const auth = route.settings.auth as RouteOptionsAccess | false | undefined;
        return auth === false || (auth !== undefined && auth.mode !== undefined && auth.mode !== 'required');
    };

    const publicRoutes = server.table()
        .filter(isPublic)
        .map((route) => `${route.method.toUpperCase()} ${route.path}`)
        .sort();

    // /swagger.json is internal: nothing from outside reaches it (test/api/docs.test.ts).
    const allowed = /^GET (\/health|\/health\/live|\/openapi\.yaml|\/docs|\/docs\/\{file\}|\/swagger\.json)$/;
    for (const route of publicRoutes) {
        t.regex(route, allowed);
    }

    t.true(publicRoutes.includes('GET /health'));
    t.true(publicRoutes.includes('GET /docs'));
    t.true(publicRoutes.includes('GET /docs/{file}'));

    t.like(server.auth.settings.default, { strategies: ['jwt'], mode: 'required' });
    const apiRoutes = server.table().filter((route) => route.path.startsWith('/api/'));
    t.is(apiRoutes.length, 22);
    for (const route of apiRoutes) {
        t.false(isPublic(route), `${route.method} ${route.path}`);
    }
});


test('JWT_MAX_LIFETIME_S sets how long a token may live', async (t) => {

    const api = await startTestApi({ JWT_MAX_LIFETIME_S: '600', JWT_CLOCK_SKEW_S: '0' });
    t.teardown(() => api.stop());

    const status = async (claims: object) => {

        const token = signHs256(header, { user_id: 'auth-user', ...claims }, testSecret);
        return (await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${token}` } })).statusCode;
    };

    t.is(await status({ exp: nowSec() + 590 }), 200);
    t.is(await status({ exp: nowSec() + 900 }), 401);
    t.is(await status({ iat: nowSec() - 300, exp: nowSec() + 299 }), 200);
    t.is(await status({ iat: nowSec() - 300, exp: nowSec() + 301 }), 401);
});

test('JWT_ISSUER and JWT_AUDIENCE are checked when set', async (t) => {

    const api = await startTestApi({ JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'todo-api' });
    t.teardown(() => api.stop());

    const status = async (claims: object) => {

        const token = signHs256(header, { ...valid(), ...claims }, testSecret);
        return (await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${token}` } })).statusCode;
    };

    t.is(await status({ iss: 'https://auth.example.com', aud: 'todo-api' }), 200);
    t.is(await status({ iss: 'https://auth.example.com', aud: ['other', 'todo-api'] }), 200);
    t.is(await status({ iss: 'https://evil.example.com', aud: 'todo-api' }), 401);
    t.is(await status({ iss: 'https://auth.example.com', aud: 'other' }), 401);
    t.is(await status({ aud: 'todo-api' }), 401);
    t.is(await status({ iss: 'https://auth.example.com' }), 401);

    t.is((await api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${api.token('minted')}` } })).statusCode, 200);
});
