import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { contractViolations, documentedOperations } from '../helpers/contract';


const test = anyTest as TestFn<TestApi>;

test.before(async (t) => {

    t.context = await startTestApi({}, undefined, { describeRoutes: true });
});

test.after.always(async (t) => {

    await t.context?.stop();
});


// Served but left out of openapi.yaml, each for a reason.
const undocumented = new Map([
    ['GET /docs/{file}', 'the documentation page\'s own scripts, styles and icons: part of the page, not of the API'],
    ['GET /swagger.json', 'hapi-swagger\'s description for the check below; internal, no request from outside reaches it']
]);


test('every route the server has is in openapi.yaml, and every documented operation is served', (t) => {

    const table = t.context.server.table().map((route) => `${route.method.toUpperCase()} ${route.path}`);
    for (const operation of undocumented.keys()) {
        t.true(table.includes(operation), `${operation} is listed as undocumented but not served`);
    }

    const served = table.filter((operation) => !undocumented.has(operation)).sort();
    t.deepEqual(served, documentedOperations());
});

test('the routes hapi-swagger describes from their joi schemas match openapi.yaml both ways', async (t) => {

    const res = await t.context.server.inject({ url: '/swagger.json', allowInternals: true });
    t.is(res.statusCode, 200);

    const described: string[] = [];
    for (const [path, item] of Object.entries<Record<string, unknown>>(JSON.parse(res.payload).paths)) {
        for (const method of Object.keys(item)) {
            described.push(`${method.toUpperCase()} ${path}`);
        }
    }

    t.deepEqual(described.sort(), documentedOperations());
});

test('the contract check catches a response that breaks the contract', (t) => {

    const task = {
        id: '7d0c3f1e-5a55-4d6b-9c3e-0f1f0f0f0f0f', user_id: 'u', title: 't', description: null, completed: false,
        priority: 'medium', due_date: null, list_id: null, parent_id: null, position: 'a0', created_at: '2026-01-01T00:00:00.000000Z', updated_at: '2026-01-01T00:00:00.000000Z'
    };

    const etag = '"fQw_HlpVTWucPg8fDw8PDwAF-PtxTvwA"';
    const secure = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY' };
    const json = { 'content-type': 'application/json; charset=utf-8', etag, 'x-request-id': '2b1f6c3e-6f0a-4c55-9a51-0c7d9e4b8a10', ...secure };
    const check = (method: string, url: string, statusCode: number, body: unknown, headers: Record<string, string> = json) => {

        return contractViolations(method, url, { statusCode, headers, payload: body === undefined ? '' : JSON.stringify(body) });
    };

    t.deepEqual(check('GET', `/api/tasks/${task.id}`, 200, task), []);
    t.deepEqual(check('GET', '/api/tasks?limit=1', 200, [task]), []);
    t.deepEqual(check('GET', `/api/tasks/${task.id}`, 304, undefined, { etag, 'x-request-id': json['x-request-id'], ...secure }), []);
    t.deepEqual(check('GET', '/api/tasks/stats', 200, { total: 1, pending: 1, completed: 0, overdue: 0 }), []);
    t.deepEqual(check('POST', '/api/tasks', 201, task, { ...json, location: `/api/tasks/${task.id}`, 'idempotent-replayed': 'true' }), []);
    t.not(check('GET', '/api/tasks/stats', 200, task).length, 0, 'stats is not read as a task id');
    t.not(check('GET', `/api/tasks/${task.id}`, 200, task, { 'content-type': json['content-type'] }).length, 0, 'a task without its ETag');
    t.not(check('GET', `/api/tasks/${task.id}`, 200, task, { ...json, etag: 'W/"weak"' }).length, 0, 'a weak ETag');
    t.not(check('GET', `/api/tasks/${task.id}`, 304, undefined, {}).length, 0, 'a 304 without its ETag');
    t.not(check('GET', `/api/tasks/${task.id}`, 304, task).length, 0, 'a 304 with a body');
    t.not(check('POST', '/api/tasks', 201, task, { ...json, 'idempotent-replayed': 'yes' }).length, 0);
    t.not(check('PUT', `/api/tasks/${task.id}`, 412, { detail: ['Task was modified'] }).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 200, { ...task, completed: 'no' }).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 200, { ...task, extra: 1 }).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 200, { ...task, created_at: '2026-01-01T00:00:00+02:00' }).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 200, { ...task, id: 'nope' }).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 418, task).length, 0);
    t.not(check('GET', '/api/elsewhere', 200, task).length, 0);
    t.not(check('PATCH', '/api/tasks', 200, task).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 404, { detail: 'Task not found', stack: 'at x' }).length, 0);
    t.not(check('POST', '/api/tasks', 422, { detail: 'not a list' }).length, 0);
    t.not(check('DELETE', `/api/tasks/${task.id}`, 204, { detail: 'gone' }).length, 0);
    t.not(check('GET', `/api/tasks/${task.id}`, 200, task, { ...json, 'content-type': 'text/html' }).length, 0);
    t.deepEqual(check('DELETE', `/api/tasks/${task.id}`, 204, undefined, { 'x-request-id': '2b1f6c3e-6f0a-4c55-9a51-0c7d9e4b8a10', ...secure }), []);

    // The documented headers: required ones present, each as its schema says.
    const { 'x-request-id': _id, ...anonymous } = json;
    t.deepEqual(check('GET', `/api/tasks/${task.id}`, 200, task, anonymous), [`GET /api/tasks/{id} 200 lacks the required header X-Request-Id`]);
    t.not(check('DELETE', `/api/tasks/${task.id}`, 204, undefined, {}).length, 0);
    t.deepEqual(check('POST', '/api/tasks', 201, task, { ...json, location: `/api/tasks/${task.id}` }), []);
    t.not(check('POST', '/api/tasks', 201, task).length, 0);
    t.not(check('POST', '/api/tasks', 201, task, { ...json, location: 'https://elsewhere.example/x' }).length, 0);
    t.deepEqual(check('GET', '/api/tasks', 401, { detail: 'Invalid authentication credentials' }, { ...json, 'www-authenticate': 'Bearer' }), []);
    t.not(check('GET', '/api/tasks', 401, { detail: 'Invalid authentication credentials' }).length, 0);
    t.not(check('GET', '/api/tasks', 401, { detail: 'Invalid authentication credentials' }, { ...json, 'www-authenticate': 'Basic realm="x"' }).length, 0);
    t.deepEqual(check('GET', '/api/tasks', 401, { detail: 'Invalid authentication credentials' }, { ...json, 'www-authenticate': 'Bearer error="invalid_token"' }), []);
    t.not(check('GET', '/api/tasks', 401, { detail: 'Invalid authentication credentials' }, { ...json, 'www-authenticate': 'Bearer error="Token expired"' }).length, 0);
    t.not(check('GET', '/api/tasks', 401, { detail: 'Invalid authentication credentials' }, { ...json, 'x-request-id': '1796592911480:host:11223:ml1:1', 'www-authenticate': 'Bearer' }).length, 0);
    t.deepEqual(check('GET', '/api/tasks?limit=1', 200, [task], { ...json, 'x-next-cursor': 'abc', link: '</api/tasks?limit=1&cursor=abc>; rel="next"' }), []);
    t.not(check('GET', '/api/tasks?limit=1', 200, [task], { ...json, 'x-next-cursor': '' }).length, 0);
    t.not(check('GET', '/api/tasks?limit=1', 200, [task], { ...json, link: '/api/tasks?cursor=abc' }).length, 0);

    // The security headers, on answers and errors alike, and the 500 in the error shape.
    for (const name of Object.keys(secure)) {
        const { [name]: _left, ...without } = json as Record<string, string>;
        t.not(check('GET', `/api/tasks/${task.id}`, 200, task, without).length, 0, `a 200 without ${name}`);
        t.not(check('GET', `/api/tasks/${task.id}`, 404, { detail: 'Task not found' }, without).length, 0, `a 404 without ${name}`);
    }

    t.not(check('GET', '/api/tasks', 200, [], { ...json, 'cache-control': 'no-cache' }).length, 0);
    t.not(check('GET', '/api/tasks', 200, [], { ...json, 'x-frame-options': 'SAMEORIGIN' }).length, 0);
    t.deepEqual(check('GET', '/api/tasks', 500, { detail: 'Internal server error' }), []);
    t.not(check('GET', '/api/tasks', 500, { detail: 'Internal server error', stack: 'at x' }).length, 0);
});
