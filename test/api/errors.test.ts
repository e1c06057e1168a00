import Crypto from 'node:crypto';
import Os from 'node:os';

import anyTest from 'ava';
import type { TestFn } from 'ava';
import Pino from 'pino';

import { createDatabase } from '../../src/data/connection';
import { silentKnexLogger } from '../../src/logger';
import { createServer } from '../../src/server';
import { contractViolations, throwOnViolations, watchResponses } from '../helpers/contract';
import { startTestApi, testConfig } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';
import { mintToken } from '../../src/auth/tokens';


// One database for the tests that leave it as they found it: each embedded one costs seconds to start.
const test = anyTest as TestFn<{ shared: TestDatabase }>;

test.before(async (t) => {

    t.context.shared = await createTestDatabase();
});

test.after.always(async (t) => {

    await t.context.shared?.destroy();
});


test('an unreachable database answers 503, not a 500, on /health and on the API', async (t) => {

    // Nothing listens on port 1: connections are refused at once.
    const database = { kind: 'postgres' as const, url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 2, timeoutMs: 500, queryTimeoutMs: 0 };
    const config = { ...testConfig(), database };
    const db = await createDatabase(database, { log: silentKnexLogger() });
    const server = await createServer({ config, db });
    const violations = watchResponses(server);
    await server.initialize();
    t.teardown(async () => {

        await server.stop();
        await db.destroy();
        throwOnViolations(violations);
    });

    const token = mintToken(config.auth, { userId: 'someone', ttlSec: 60 }).token;
    const check = async (method: string, url: string, payload?: object) => {

        const res = await server.inject({ method, url, payload, headers: { authorization: `Bearer ${token}` } });
        t.deepEqual(contractViolations(method, url, res), []);
        return res;
    };

    const health = await check('GET', '/health');
    t.is(health.statusCode, 503);
    t.deepEqual(health.result, { status: 'unavailable', database: 'unreachable', jwks: 'disabled' });

    const live = await check('GET', '/health/live');
    t.is(live.statusCode, 200);

    for (const [method, url, payload] of [
        ['GET', '/api/tasks'],
        ['POST', '/api/tasks', { title: 'x' }],
        ['GET', `/api/tasks/${Crypto.randomUUID()}`],
        ['DELETE', `/api/tasks/${Crypto.randomUUID()}`]
    ] as [string, string, object?][]) {
        const res = await check(method, url, payload);
        t.is(res.statusCode, 503, `${method} ${url}`);
        t.deepEqual(res.result, { detail: 'Service temporarily unavailable' });
        t.false(/ECONNREFUSED|127\.0\.0\.1|postgres/i.test(res.payload));
    }
});

test('an unexpected failure is a bare 500: no stack, no SQL, no driver message', async (t) => {

    const api = await startTestApi();
    t.teardown(() => api.stop());

    await api.database.db.knex.raw('alter table tasks rename to tasks_gone');
    t.teardown(() => api.database.db.knex.raw('alter table tasks_gone rename to tasks'));

    const res = await api.server.inject({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${api.token('u')}` } });
    t.is(res.statusCode, 500);
    t.deepEqual(JSON.parse(res.payload), { detail: 'Internal server error' });
    t.is(res.headers['content-type'], 'application/json; charset=utf-8');
});

test('unknown paths are a 404 with a detail', async (t) => {

    const api = await startTestApi({}, t.context.shared);
    t.teardown(() => api.stop());

    const res = await api.server.inject({ method: 'GET', url: '/api/nothing-here', headers: { authorization: `Bearer ${api.token('u')}` } });
    t.is(res.statusCode, 404);
    t.deepEqual(JSON.parse(res.payload), { detail: 'Not Found' });
});

test('responses carry security headers, no-store and a request id', async (t) => {

    const api = await startTestApi({}, t.context.shared);
    t.teardown(() => api.stop());

    for (const res of [
        await api.request({ method: 'GET', url: '/api/tasks', as: 'headers-user' }),
        await api.request({ method: 'GET', url: '/api/tasks' }),
        await api.request({ method: 'GET', url: `/api/tasks/${Crypto.randomUUID()}`, as: 'headers-user' })
    ]) {
        t.is(res.headers['x-content-type-options'], 'nosniff');
        t.is(res.headers['x-frame-options'], 'DENY');
        t.is(res.headers['cache-control'], 'no-store');
        t.is(res.headers['referrer-policy'], 'no-referrer');
        t.truthy(res.headers['x-request-id']);

        // hapi's X-XSS-Protection and X-Download-Options, which it sends unless told not to: no browser in use reads them.
        t.is(res.headers['x-xss-protection'], undefined);
        t.is(res.headers['x-download-options'], undefined);
    }
});

test('the request id is random, tells nothing of the server, and is the req_id of the request\'s log line', async (t) => {

    const lines: Record<string, unknown>[] = [];
    const logger = Pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const config = { ...testConfig({ LOG_LEVEL: 'info' }), database: t.context.shared.config };
    const server = await createServer({ config, db: t.context.shared.db, logger });
    const violations = watchResponses(server);
    await server.initialize();
    t.teardown(async () => {

        await server.stop();
        throwOnViolations(violations);
    });

    const token = mintToken(config.auth, { userId: 'id-user', ttlSec: 600 }).token;
    const answers = [
        await server.inject({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${token}` } }),
        await server.inject({ method: 'GET', url: '/api/tasks' }),
        await server.inject({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${token}` } })
    ];

    const ids = answers.map((res) => String(res.headers['x-request-id']));
    for (const id of ids) {
        t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        t.false(id.includes(Os.hostname()) || id.includes(String(process.pid)), id);
    }

    t.is(new Set(ids).size, 3);
    const logged = lines.filter((line) => String(line.msg).startsWith('[response]')).map((line) => line.req_id);
    t.deepEqual(logged, ids);
});

test('CORS answers the configured origins only, with credentials', async (t) => {

    const api = await startTestApi({ CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' }, t.context.shared);
    t.teardown(() => api.stop());

    const preflight = (origin: string) => {

        return api.server.inject({
            method: 'OPTIONS', url: '/api/tasks',
            headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' }
        });
    };

    const allowed = await preflight('https://app.example.com');
    t.is(allowed.statusCode, 200);
    t.is(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
    t.is(allowed.headers['access-control-allow-credentials'], 'true');

    const refused = await preflight('https://evil.example.com');
    t.is(refused.headers['access-control-allow-origin'], undefined);

    const list = await api.request({ method: 'GET', url: '/api/tasks', as: 'cors-user', headers: { origin: 'http://localhost:3000' } });
    t.is(list.headers['access-control-allow-origin'], 'http://localhost:3000');
    // WWW-Authenticate is in hapi's defaults; the rest are added for the frontend.
    for (const header of ['Location', 'Link', 'X-Next-Cursor', 'X-Request-Id', 'WWW-Authenticate']) {
        t.regex(String(list.headers['access-control-expose-headers']), new RegExp(`(^|,)${header}(,|$)`), header);
    }

    // A browser may send the preconditions, retry keys and the stream's resume point, and read the version and replay
    // marker.
    const id = Crypto.randomUUID();
    for (const [method, url, requested] of [
        ['POST', '/api/tasks', 'authorization, content-type, idempotency-key'],
        ['PATCH', `/api/tasks/${id}`, 'authorization, content-type, if-match'],
        ['GET', `/api/tasks/${id}`, 'authorization, if-none-match'],
        ['GET', '/api/changes/stream', 'authorization, last-event-id']
    ]) {
        const res = await api.server.inject({
            method: 'OPTIONS', url,
            headers: { origin: 'https://app.example.com', 'access-control-request-method': method, 'access-control-request-headers': requested }
        });
        t.is(res.statusCode, 200, requested);
        t.regex(String(res.headers['access-control-allow-headers']), new RegExp(requested.split(', ').pop()!, 'i'));
    }

    const created = await api.request({ method: 'POST', url: '/api/tasks', as: 'cors-user', headers: { origin: 'http://localhost:3000', 'idempotency-key': 'cors' }, payload: { title: 'x' } });
    t.regex(String(created.headers['access-control-expose-headers']), /ETag/);
    t.regex(String(created.headers['access-control-expose-headers']), /Idempotent-Replayed/);
});

test('in production with no CORS_ORIGINS, no browser origin is allowed, localhost included', async (t) => {

    const api = await startTestApi({ NODE_ENV: 'production' }, t.context.shared);
    t.teardown(() => api.stop());
    t.deepEqual(api.config.corsOrigins, []);

    const preflight = await api.server.inject({
        method: 'OPTIONS', url: '/api/tasks',
        headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' }
    });
    t.is(preflight.headers['access-control-allow-origin'], undefined);
    t.is(preflight.headers['access-control-allow-credentials'], undefined);

    const list = await api.request({ method: 'GET', url: '/api/tasks', as: 'cors-user', headers: { origin: 'http://localhost:3000' } });
    t.is(list.statusCode, 200);
    t.is(list.headers['access-control-allow-origin'], undefined);
});

test('HSTS is the TLS proxy\'s unless HSTS_MAX_AGE_S asks the service to send it', async (t) => {

    const plain = await startTestApi({}, t.context.shared);
    t.teardown(() => plain.stop());
    t.is((await plain.request({ method: 'GET', url: '/health/live' })).headers['strict-transport-security'], undefined);

    const hsts = await startTestApi({ HSTS_MAX_AGE_S: '31536000' }, t.context.shared);
    t.teardown(() => hsts.stop());
    for (const res of [
        await hsts.request({ method: 'GET', url: '/health/live' }),
        await hsts.request({ method: 'GET', url: '/api/tasks', as: 'hsts-user' }),
        await hsts.request({ method: 'GET', url: '/api/tasks' })
    ]) {
        t.is(res.headers['strict-transport-security'], 'max-age=31536000', res.request.url.pathname);
    }
});

test('a malformed cookie changes nothing: the API reads no cookies', async (t) => {

    const api = await startTestApi({}, t.context.shared);
    t.teardown(() => api.stop());
    for (const url of ['/health/live', '/openapi.yaml']) {
        const res = await api.request({ method: 'GET', url, headers: { cookie: 'a=b; =; ;;c="unterminated' } });
        t.is(res.statusCode, 200, url);
    }

    const task = await api.request({ method: 'POST', url: '/api/tasks', as: 'cookie-user', headers: { cookie: 'x=1; x=2; =%zz' }, payload: { title: 'cookies ignored' } });
    t.is(task.statusCode, 201);
});
