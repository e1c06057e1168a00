import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { contractViolations, documentedOperations } from '../helpers/contract';


const test = anyTest as TestFn<TestApi>;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


// The documentation UI's own plumbing: its JSON description and static assets.
const docsPlumbing = /^GET \/(swagger\.json|swaggerui\/.*)$/;


test('every route the server has is in openapi.yaml, and every documented operation is served', (t) => {

    const served = t.context.server.table()
        .map((route) => `${route.method.toUpperCase()} ${route.path}`)
        .filter((operation) => !docsPlumbing.test(operation))
        .sort();

    t.deepEqual(served, documentedOperations());
});

test('the routes hapi-swagger describes match openapi.yaml both ways', async (t) => {

    const res = await t.context.server.inject('/swagger.json');
    t.is(res.statusCode, 200);

    const described: string[] = [];
    for (const [path, item] of Object.entries<Record<string, unknown>>(JSON.parse(res.payload).paths)) {
        for (const method of Object.keys(item)) {
            described.push(`${method.toUpperCase()} ${path}`);
        }
    }

    // hapi-swagger describes the API's routes; /docs is the page it serves itself.
    t.deepEqual([...described, 'GET /docs'].sort(), documentedOperations());
});

test('the contract check catches a response that breaks the contract', (t) => {

    const task = {
        id: '7d0c3f1e-5a55-4d6b-9c3e-0f1f0f0f0f0f', user_id: 'u', title: 't', description: null, completed: false,
        priority: 'medium', due_date: null, created_at: '2026-01-01T00:00:00.000000Z', updated_at: '2026-01-01T00:00:00.000000Z'
    };

    const etag = '"fQw_HlpVTWucPg8fDw8PDwAF-PtxTvwA"';
    const json = { 'content-type': 'application/json; charset=utf-8', etag };
    const check = (method: string, url: string, statusCode: number, body: unknown, headers: Record<string, string> = json) => {

        return contractViolations(method, url, { statusCode, headers, payload: body === undefined ? '' : JSON.stringify(body) });
    };

    t.deepEqual(check('GET', `/api/tasks/${task.id}`, 200, task), []);
    t.deepEqual(check('GET', '/api/tasks?limit=1', 200, [task]), []);
    t.deepEqual(check('GET', `/api/tasks/${task.id}`, 304, undefined, { etag }), []);
    t.deepEqual(check('GET', '/api/tasks/stats', 200, { total: 1, pending: 1, completed: 0, overdue: 0 }), []);
    t.deepEqual(check('POST', '/api/tasks', 201, task, { ...json, 'idempotent-replayed': 'true' }), []);
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
    t.not(check('GET', `/api/tasks/${task.id}`, 200, task, { 'content-type': 'text/html' }).length, 0);
    t.deepEqual(check('DELETE', `/api/tasks/${task.id}`, 204, undefined, {}), []);
});
