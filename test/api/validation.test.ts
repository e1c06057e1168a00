import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { components } from '../../src/generated/openapi';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


type ValidationError = components['schemas']['ValidationError'];

const test = anyTest as TestFn<TestApi>;
const user = `validation-${Crypto.randomUUID()}`;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


const invalidBody = test.macro({
    async exec(t, payload: unknown, field: string, type?: string) {

        const owner = `${user}-${Crypto.randomUUID()}`;
        const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: owner, payload: payload as object });

        t.is(res.statusCode, 422);
        const { detail } = res.result as ValidationError;
        const issue = detail.find((item) => item.loc.join('.') === field);
        t.truthy(issue, `no issue at ${field}: ${JSON.stringify(detail)}`);
        t.true(issue!.msg.length > 0);
        if (type) {
            t.is(issue!.type, type);
        }

        t.deepEqual(await t.context.tasks.listTasksForUser(owner, { limit: 100 }), { tasks: [], next: null }, 'nothing was stored');
    },
    title: (provided, _payload, field) => `POST 422: ${provided} (${field})`
});

test('missing title', invalidBody, { description: 'x' }, 'body.title', 'any.required');
test('empty title', invalidBody, { title: '' }, 'body.title', 'string.empty');
test('whitespace-only title', invalidBody, { title: ' \t\n ' }, 'body.title');
test('201-character title', invalidBody, { title: 'x'.repeat(201) }, 'body.title', 'string.maxChars');
test('201-emoji title', invalidBody, { title: '😀'.repeat(201) }, 'body.title', 'string.maxChars');
test('a NUL character in the title', invalidBody, { title: 'a\u0000b' }, 'body.title', 'string.nul');
test('a NUL character in the description', invalidBody, { title: 'ok', description: '\u0000' }, 'body.description', 'string.nul');
test('a NUL character in priority', invalidBody, { title: 'ok', priority: 'low\u0000' }, 'body.priority', 'any.only');
test('a NUL character in due_date', invalidBody, { title: 'ok', due_date: '2026-01-01\u0000' }, 'body.due_date', 'string.nul');
test('a lone high surrogate in the title', invalidBody, '{"title":"a\\ud800b"}', 'body.title', 'string.surrogate');
test('a lone low surrogate in the description', invalidBody, '{"title":"ok","description":"\\udc00"}', 'body.description', 'string.surrogate');
test('surrogates in the wrong order', invalidBody, '{"title":"\\ude00\\ud83d"}', 'body.title', 'string.surrogate');
test('numeric title', invalidBody, { title: 42 }, 'body.title', 'string.base');
test('null title', invalidBody, { title: null }, 'body.title');
test('4001-character description', invalidBody, { title: 'ok', description: 'd'.repeat(4001) }, 'body.description', 'string.maxChars');
test('4001-emoji description', invalidBody, { title: 'ok', description: '🙂'.repeat(4001) }, 'body.description', 'string.maxChars');
test('non-string description', invalidBody, { title: 'ok', description: ['a'] }, 'body.description');
test('unknown priority', invalidBody, { title: 'ok', priority: 'urgent' }, 'body.priority', 'any.only');
test('non-boolean completed', invalidBody, { title: 'ok', completed: 'maybe' }, 'body.completed', 'boolean.base');
test('free-text due_date', invalidBody, { title: 'ok', due_date: 'tomorrow' }, 'body.due_date', 'date.format');
test('impossible calendar date', invalidBody, { title: 'ok', due_date: '2026-02-30T10:00:00Z' }, 'body.due_date', 'date.format');
test('month 13', invalidBody, { title: 'ok', due_date: '2026-13-01' }, 'body.due_date', 'date.format');
test('hour 24', invalidBody, { title: 'ok', due_date: '2026-01-01T24:00:00Z' }, 'body.due_date', 'date.format');
test('due_date in year 0000 (PostgreSQL has no year 0)', invalidBody, { title: 'ok', due_date: '0000-06-01T00:00:00Z' }, 'body.due_date', 'date.format');
test('due_date that an offset carries into year 0', invalidBody, { title: 'ok', due_date: '0001-01-01T00:30:00+01:00' }, 'body.due_date', 'date.format');
test('due_date that an offset carries into year 10000', invalidBody, { title: 'ok', due_date: '9999-12-31T23:30:00-01:00' }, 'body.due_date', 'date.format');
test('due_date in year 10000', invalidBody, { title: 'ok', due_date: '10000-01-01T00:00:00Z' }, 'body.due_date', 'date.format');
test('numeric due_date', invalidBody, { title: 'ok', due_date: 1767225600 }, 'body.due_date');
test('a JSON array body', invalidBody, [{ title: 'ok' }], 'body');
test('a JSON string body', invalidBody, JSON.stringify('a title'), 'body');

test('lengths count characters: a 200-emoji title and a 4000-emoji description are stored as sent', async (t) => {

    const owner = `${user}-emoji`;
    const payload = { title: '😀'.repeat(200), description: '🙂'.repeat(4000) };
    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: owner, payload });
    t.is(res.statusCode, 201);
    const stored = await t.context.tasks.getTaskForUser(owner, (res.result as { id: string }).id);
    t.is(stored?.title, payload.title);
    t.is(stored?.description, payload.description);
});

test('due dates at the first and last instants PostgreSQL and the API share are stored', async (t) => {

    for (const [sent, stored] of [['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000Z'], ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999000Z']]) {
        const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: `${user}-bounds`, payload: { title: 'edge', due_date: sent } });
        t.is(res.statusCode, 201, sent);
        t.is((res.result as { due_date: string }).due_date, stored);
    }
});

test('a NUL or lone surrogate in PATCH and PUT bodies is a 422 that changes nothing', async (t) => {

    const owner = `${user}-edits`;
    const task = await t.context.createTask(owner, { title: 'unchanged' });
    for (const [method, payload] of [['PATCH', '{"title":"a\\u0000"}'], ['PUT', '{"title":"b\\ud800"}'], ['PATCH', '{"description":"\\udfff"}']]) {
        const res = await t.context.request({ method, url: `/api/tasks/${task.id}`, as: owner, payload, headers: { 'content-type': 'application/json' } });
        t.is(res.statusCode, 422, `${method} ${payload}`);
    }

    t.is((await t.context.tasks.getTaskForUser(owner, task.id))?.title, 'unchanged');
});

test('a path id holding a NUL character or a lone surrogate is a task that does not exist', async (t) => {

    for (const id of ['a%00b', `${Crypto.randomUUID()}%00`, '%EF%BF%BD']) {
        for (const method of ['GET', 'PATCH', 'DELETE']) {
            const res = await t.context.request({ method, url: `/api/tasks/${id}`, as: user, ...(method === 'PATCH' ? { payload: {} } : {}) });
            t.is(res.statusCode, 404, `${method} ${id}`);
        }
    }
});

test('a path that is not valid percent-encoded UTF-8 is a 400 with a detail', async (t) => {

    for (const method of ['GET', 'DELETE']) {
        const res = await t.context.request({ method, url: '/api/tasks/%ED%A0%80', as: user });
        t.is(res.statusCode, 400, method);
        t.is(typeof (res.result as { detail: string }).detail, 'string');
    }
});

test('limits are inclusive: 200-character title and 4000-character description are stored', async (t) => {

    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: `${user}-limits`, payload: { title: 'x'.repeat(200), description: 'd'.repeat(4000) } });
    t.is(res.statusCode, 201);
});

test('every problem in a body is reported at once', async (t) => {

    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: '', priority: 'urgent', completed: 'maybe' } });
    t.is(res.statusCode, 422);
    const locations = (res.result as ValidationError).detail.map((issue) => issue.loc.join('.')).sort();
    t.deepEqual(locations, ['body.completed', 'body.priority', 'body.title']);
});

test('PATCH validates what it is sent and changes nothing when any field fails', async (t) => {

    const task = await t.context.createTask(user, { title: 'unchanged' });
    const res = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { title: 'new title', priority: 'urgent' } });
    t.is(res.statusCode, 422);
    t.deepEqual((res.result as ValidationError).detail.map((issue) => issue.loc), [['body', 'priority']]);
    t.deepEqual(await t.context.tasks.getTaskForUser(user, task.id), task);

    const blank = await t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: user, payload: { title: '   ' } });
    t.is(blank.statusCode, 422);
    t.deepEqual(await t.context.tasks.getTaskForUser(user, task.id), task);
});

test('the service\'s own rules say what they want: a date, a cursor it issued, a printable Idempotency-Key', async (t) => {

    const detail = async (method: string, url: string, payload?: object, headers?: Record<string, string>) => {

        const res = await t.context.request({ method, url, as: user, payload, headers });
        t.is(res.statusCode, 422);
        return (res.result as ValidationError).detail.map(({ loc, msg, type }) => ({ loc, msg, type }));
    };

    const dateFormat = 'must be an RFC 3339 date-time such as 2026-12-31T17:00:00Z';
    t.deepEqual(await detail('POST', '/api/tasks', { title: 'ok', due_date: 'tomorrow' }), [
        { loc: ['body', 'due_date'], msg: `due_date ${dateFormat}`, type: 'date.format' }
    ]);
    t.deepEqual(await detail('GET', '/api/tasks?due_before=2026-02-30&cursor=x'), [
        { loc: ['query', 'cursor'], msg: 'cursor is not a cursor this service issued', type: 'cursor.invalid' },
        { loc: ['query', 'due_before'], msg: `due_before ${dateFormat}`, type: 'date.format' }
    ]);
    t.deepEqual(await detail('POST', '/api/tasks', { title: 'ok' }, { 'idempotency-key': 'caf\u00e9' }), [
        { loc: ['header', 'idempotency-key'], msg: 'idempotency-key must be 1 to 255 printable ASCII characters', type: 'string.pattern.base' }
    ]);
});

const invalidQuery = test.macro({
    async exec(t, query: string, field: string) {

        const res = await t.context.request({ method: 'GET', url: `/api/tasks?${query}`, as: user });
        t.is(res.statusCode, 422);
        const { detail } = res.result as ValidationError;
        t.true(detail.some((issue) => issue.loc.join('.') === field), JSON.stringify(detail));
    },
    title: (provided, query) => `GET /api/tasks?${query} is 422 ${provided ?? ''}`.trim()
});

test(invalidQuery, 'status=done', 'query.status');
test(invalidQuery, 'status=', 'query.status');
test(invalidQuery, 'completed=maybe', 'query.completed');
test(invalidQuery, 'limit=0', 'query.limit');
test(invalidQuery, 'limit=101', 'query.limit');
test(invalidQuery, 'limit=ten', 'query.limit');
test(invalidQuery, 'limit=2.5', 'query.limit');
test(invalidQuery, 'cursor=not-a-cursor', 'query.cursor');
test(invalidQuery, `cursor=${Buffer.from('2026-01-01|x').toString('base64url')}`, 'query.cursor');
test('conflicting status and completed', invalidQuery, 'status=pending&completed=true', 'query');
test(invalidQuery, 'status=all%00', 'query.status');
test(invalidQuery, 'cursor=%00', 'query.cursor');
test('a cursor in year 0000', invalidQuery, `cursor=${Buffer.from(`0000-01-01T00:00:00.000000Z|${Crypto.randomUUID()}`).toString('base64url')}`, 'query.cursor');
test('a cursor on a day that does not exist', invalidQuery, `cursor=${Buffer.from(`2026-02-30T00:00:00.000000Z|${Crypto.randomUUID()}`).toString('base64url')}`, 'query.cursor');
test(invalidQuery, 'sort=colour', 'query.sort');
test(invalidQuery, 'sort=', 'query.sort');
test(invalidQuery, 'sort=title%00', 'query.sort');
test(invalidQuery, 'sort=title&sort=priority', 'query.sort');
test(invalidQuery, 'order=up', 'query.order');
test(invalidQuery, 'order=ASC', 'query.order');
test(invalidQuery, 'priority=urgent', 'query.priority');
test(invalidQuery, 'priority=high&priority=none', 'query.priority.1');
test(invalidQuery, 'priority=high,low', 'query.priority');
test(invalidQuery, 'due_before=tomorrow', 'query.due_before');
test(invalidQuery, 'due_before=', 'query.due_before');
test(invalidQuery, 'due_after=2026-02-30', 'query.due_after');
test(invalidQuery, 'due_after=0000-01-01T00:00:00Z', 'query.due_after');
test(invalidQuery, 'overdue=maybe', 'query.overdue');
test(invalidQuery, `q=${'x'.repeat(201)}`, 'query.q');
test(invalidQuery, 'q=a%00b', 'query.q');

test('malformed JSON is a 400 with a detail', async (t) => {

    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: '{"title": "oops"', headers: { 'content-type': 'application/json' } });
    t.is(res.statusCode, 400);
    t.is(typeof (res.result as { detail: string }).detail, 'string');
});

test('a body that is not JSON is a 415', async (t) => {

    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: 'title=hello', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.is(res.statusCode, 415);
    t.is(typeof (res.result as { detail: string }).detail, 'string');
});

test('a body over the size limit is a 413', async (t) => {

    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'big', description: 'x'.repeat(100_000) } });
    t.is(res.statusCode, 413);
    t.is(typeof (res.result as { detail: string }).detail, 'string');
});

test('a prototype-pollution body is refused', async (t) => {

    const res = await t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: '{"title":"x","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
    t.is(res.statusCode, 400);
    t.is(({} as Record<string, unknown>).admin, undefined);
});
