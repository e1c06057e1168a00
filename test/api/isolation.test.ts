import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


const attempts: [string, string, object | undefined][] = [
    ['GET', '', undefined],
    ['PUT', '', { title: 'stolen', completed: true }],
    ['PATCH', '', { title: 'stolen' }],
    ['PATCH', '/complete', undefined],
    ['PATCH', '/complete', { completed: true }],
    ['DELETE', '', undefined]
];

for (const [method, suffix, payload] of attempts) {
    const body = payload ? ` with ${JSON.stringify(payload)}` : '';
    test(`${method} /api/tasks/{id}${suffix}${body} on another user's task is 404 and changes nothing`, async (t) => {

        const owner = `owner-${Crypto.randomUUID()}`;
        const intruder = `intruder-${Crypto.randomUUID()}`;
        const task = await t.context.createTask(owner, { title: 'private', description: 'secret' });
        await t.context.createTask(intruder, { title: 'intruder\'s own' });

        const res = await t.context.request({ method, url: `/api/tasks/${task.id}${suffix}`, as: intruder, payload });
        t.is(res.statusCode, 404);
        t.deepEqual(res.result, { detail: 'Task not found' });
        t.false(res.payload.includes('secret'));

        t.deepEqual(await t.context.tasks.getTaskForUser(owner, task.id), task, 'the owner\'s task is unchanged');

        const intruderList = await t.context.request({ method: 'GET', url: '/api/tasks', as: intruder });
        t.deepEqual((intruderList.result as Task[]).map((item) => item.title), ['intruder\'s own']);

        const ownerList = await t.context.request({ method: 'GET', url: '/api/tasks', as: owner });
        t.deepEqual((ownerList.result as Task[]).map((item) => item.id), [task.id]);
    });
}

test('a cursor from another user\'s list reveals none of their tasks', async (t) => {

    const owner = `owner-${Crypto.randomUUID()}`;
    const intruder = `intruder-${Crypto.randomUUID()}`;
    for (let i = 0; i < 3; ++i) {
        await t.context.createTask(owner, { title: `owner ${i}` });
    }

    const page = await t.context.request({ method: 'GET', url: '/api/tasks?limit=1', as: owner });
    const cursor = page.headers['x-next-cursor'] as string;
    t.truthy(cursor);

    const res = await t.context.request({ method: 'GET', url: `/api/tasks?cursor=${cursor}`, as: intruder });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, []);
});
