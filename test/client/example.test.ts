import Fs from 'node:fs';
import Path from 'node:path';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import { tryTheApi } from '../../examples/client';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { createTodoClient, isValidationError } from 'todo-api/client';


interface Context {
    api: TestApi;
    base: string;
}


const test = anyTest as TestFn<Context>;

const root = Path.resolve(__dirname, '..', '..');


test.before(async (t) => {

    const api = await startTestApi({ PORT: '0' });
    await api.server.start();
    t.context = { api, base: api.server.info.uri };
});

test.after.always(async (t) => {

    await t.context?.api.stop();
});


test('docs/api.md shows examples/client.ts as it is', (t) => {

    const example = Fs.readFileSync(Path.join(root, 'examples', 'client.ts'), 'utf8');
    const page = Fs.readFileSync(Path.join(root, 'docs', 'api.md'), 'utf8');
    t.true(page.includes('```ts\n' + example + '```\n'), 'docs/api.md must hold examples/client.ts verbatim in a ```ts block');
});

test('todo-api/client is the compiled client with its declarations, up to date with its sources', (t) => {

    const entry = require.resolve('todo-api/client');
    t.is(entry, Path.join(root, 'dist', 'src', 'client', 'index.js'));
    t.true(Fs.existsSync(Path.join(root, 'dist', 'src', 'client', 'index.d.ts')));
    t.true(Fs.existsSync(Path.join(root, 'dist', 'src', 'generated', 'openapi-client.d.ts')));
    t.is(require.resolve('todo-api/openapi.yaml'), Path.join(root, 'openapi.yaml'));

    const built = (file: string) => Fs.statSync(Path.join(root, 'dist', file)).mtimeMs;
    const source = (file: string) => Fs.statSync(Path.join(root, file)).mtimeMs;
    t.true(built('src/client/index.js') >= source('src/client/index.ts'), 'dist is older than src/client: npm run build:client');
    t.true(built('src/generated/openapi-client.js') >= source('src/generated/openapi-client.ts'), 'dist is older than the types: npm run build:client');
});

test('the compiled client needs nothing of the server: openapi-fetch alone', (t) => {

    const required = (file: string) => [...Fs.readFileSync(Path.join(root, 'dist', 'src', file), 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
    t.deepEqual(required('client/index.js'), ['openapi-fetch']);
    t.deepEqual(required('generated/openapi-client.js'), []);
});

test('the example of docs/api.md runs against a listening server: create, list, page, patch, toggle, replace, delete, 404, 422', async (t) => {

    const { api, base } = t.context;
    const user = 'example-user';
    let asked = 0;
    const result = await tryTheApi(base, () => {

        asked += 1;
        return Promise.resolve(api.token(user));
    });

    const milkId = result.location!.split('/').pop()!;
    t.is(result.location, `/api/tasks/${milkId}`);
    t.deepEqual(result.pending, ['Call the plumber', 'Buy milk']);
    t.deepEqual(result.everything, ['Water the plants', 'Call the plumber', 'Buy milk']);

    t.like(result.patched, { id: milkId, title: 'Buy milk', description: 'Two litres', priority: 'high', completed: false });
    t.like(result.toggled, { id: milkId, completed: true, description: 'Two litres' });
    t.like(result.replaced, { id: milkId, title: 'Buy oat milk', description: null, priority: 'medium', completed: false, due_date: null });
    t.is(result.deleted, 204);
    t.deepEqual(result.notFound, { status: 404, detail: 'Task not found' });
    t.is(result.refused.status, 422);
    t.deepEqual(result.refused.problems, ['body.title: title must be at most 200 characters long']);

    // The token is asked for before each request: 3 creates, the pending list, 3 pages, patch, toggle, replace, delete,
    // the 404 and the 422.
    t.is(asked, 13);

    // What the server kept: the two tasks not deleted, and nothing of the refused one.
    const kept = await api.tasks.listTasksForUser(user, { limit: 10 });
    t.deepEqual(kept.tasks.map((task) => task.title), ['Water the plants', 'Call the plumber']);
});

test('the client\'s types refuse what the contract refuses, and the server agrees at run time', async (t) => {

    const { api, base } = t.context;
    const client = createTodoClient({ baseUrl: base, getToken: () => api.token('typed-user') });

    // @ts-expect-error title must be a string
    const wrongType = await client.POST('/api/tasks', { body: { title: 42 } });
    t.is(wrongType.response.status, 422);
    t.true(isValidationError(wrongType.error));

    // @ts-expect-error priority is low, medium or high
    const wrongEnum = await client.POST('/api/tasks', { body: { title: 'a', priority: 'urgent' } });
    t.is(wrongEnum.response.status, 422);

    // @ts-expect-error limit is a number
    const wrongQuery = await client.GET('/api/tasks', { params: { query: { limit: 'many' } } });
    t.is(wrongQuery.response.status, 422);

    // A 422's error is the list; any other failure's is one string.
    const tooLong = await client.POST('/api/tasks', { body: { title: 'x'.repeat(201) } });
    t.true(isValidationError(tooLong.error));
    t.deepEqual(isValidationError(tooLong.error) ? tooLong.error.detail.map((issue) => issue.loc) : null, [['body', 'title']]);

    const anonymous = createTodoClient({ baseUrl: base, getToken: () => null });
    const refused = await anonymous.GET('/api/tasks');
    t.is(refused.response.status, 401);
    t.false(isValidationError(refused.error));
    t.deepEqual(refused.error, { detail: 'Invalid authentication credentials' });
    t.regex(refused.response.headers.get('WWW-Authenticate') ?? '', /^Bearer/);
    t.truthy(refused.response.headers.get('X-Request-Id'));
});
