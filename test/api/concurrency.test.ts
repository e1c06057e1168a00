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


test('50 users creating 20 tasks each at once lose nothing', async (t) => {

    const users = Array.from({ length: 50 }, (_, i) => `crowd-${i}-${Crypto.randomUUID()}`);

    const responses = await Promise.all(users.flatMap((user) => {

        return Array.from({ length: 20 }, (_, i) => {

            return t.context.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: `${user} #${i}` } });
        });
    }));

    t.true(responses.every((res) => res.statusCode === 201));

    for (const user of users) {
        const list = await t.context.request({ method: 'GET', url: '/api/tasks', as: user });
        const titles = (list.result as Task[]).map((task) => task.title).sort();
        t.deepEqual(titles, Array.from({ length: 20 }, (_, i) => `${user} #${i}`).sort());
    }

    const total = await t.context.database.db.knex('tasks').whereIn('user_id', users).count<{ count: string }[]>('* as count');
    t.is(Number(total[0].count), 1000);
});

test('101 concurrent toggles of one task end completed', async (t) => {

    const user = `toggler-${Crypto.randomUUID()}`;
    const task = await t.context.createTask(user);

    const responses = await Promise.all(Array.from({ length: 101 }, () => {

        return t.context.request({ method: 'PATCH', url: `/api/tasks/${task.id}/complete`, as: user });
    }));

    t.true(responses.every((res) => res.statusCode === 200));
    t.is((await t.context.tasks.getTaskForUser(user, task.id))!.completed, true);

    // Each toggle saw a different state: 51 ended true and 50 ended false.
    const ended = responses.map((res) => (res.result as Task).completed);
    t.is(ended.filter(Boolean).length, 51);
});
