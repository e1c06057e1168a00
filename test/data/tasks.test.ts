import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import { parseTaskLimits } from '../../src/config';
import type { Task, TaskFields, TaskStore } from '../../src/data/tasks';
import { taskStore } from '../../src/data/tasks';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';


const test = anyTest as TestFn<{ database: TestDatabase; tasks: TaskStore }>;
const fields = (title: string, more: Partial<TaskFields> = {}): TaskFields => ({ title, description: null, completed: false, priority: 'medium', due_date: null, ...more });
const newUser = () => `data-${Crypto.randomUUID()}`;

async function create(tasks: TaskStore, user: string, taskFields: TaskFields): Promise<Task> {

    const task = await tasks.createTaskForUser(user, taskFields);
    if (!task) {
        throw new Error('the task limit refused a create');
    }

    return task;
}

test.before(async (t) => {

    const database = await createTestDatabase();
    t.context = { database, tasks: taskStore(database.db, parseTaskLimits({})) };
});

test.after.always(async (t) => {

    await t.context.database?.destroy();
});


test('every read and write is scoped to the user it is given', async (t) => {

    const { tasks } = t.context;
    const alice = newUser();
    const bob = newUser();
    const task = await create(tasks, alice, fields('alice only'));

    t.is(await tasks.getTaskForUser(bob, task.id), null);
    t.is(await tasks.replaceTaskForUser(bob, task.id, fields('taken')), null);
    t.is(await tasks.updateTaskForUser(bob, task.id, { title: 'taken' }), null);
    t.is(await tasks.setTaskCompletionForUser(bob, task.id), null);
    t.is(await tasks.setTaskCompletionForUser(bob, task.id, true), null);
    t.false(await tasks.deleteTaskForUser(bob, task.id));
    t.deepEqual(await tasks.listTasksForUser(bob, { limit: 10 }), { tasks: [], next: null });

    t.deepEqual(await tasks.getTaskForUser(alice, task.id), task);
});

test('ids that are not UUIDs find nothing and reach no SQL error', async (t) => {

    const { tasks } = t.context;
    const user = newUser();
    for (const id of ['', 'abc', '1; drop table tasks', '7d0c3f1e-5a55-4d6b-9c3e-0f1f0f0f0f0']) {
        t.is(await tasks.getTaskForUser(user, id), null);
        t.is(await tasks.updateTaskForUser(user, id, { title: 'x' }), null);
        t.is(await tasks.setTaskCompletionForUser(user, id), null);
        t.false(await tasks.deleteTaskForUser(user, id));
    }
});

test('toggle is a single atomic statement: concurrent toggles all count', async (t) => {

    const { tasks } = t.context;
    const user = newUser();
    const task = await create(tasks, user, fields('toggle me'));

    await Promise.all(Array.from({ length: 40 }, () => tasks.setTaskCompletionForUser(user, task.id)));
    t.false((await tasks.getTaskForUser(user, task.id))!.completed);

    await Promise.all(Array.from({ length: 41 }, () => tasks.setTaskCompletionForUser(user, task.id)));
    t.true((await tasks.getTaskForUser(user, task.id))!.completed);
});

test('the schema refuses what the API refuses, even when the API is bypassed', async (t) => {

    const { db } = t.context.database;
    const user = newUser();
    await t.throwsAsync(db.raw('insert into tasks (user_id, title) values (?, ?)', [user, '   ']));
    await t.throwsAsync(db.raw('insert into tasks (user_id, title) values (?, ?)', [user, 'x'.repeat(201)]));
    await t.throwsAsync(db.raw('insert into tasks (user_id, title, priority) values (?, ?, ?)', [user, 'ok', 'urgent']));
    await t.throwsAsync(db.raw('insert into tasks (user_id, title, description) values (?, ?, ?)', [user, 'ok', 'd'.repeat(4001)]));
    await t.throwsAsync(db.raw('insert into tasks (title) values (?)', ['no owner']));
    t.deepEqual(await t.context.tasks.listTasksForUser(user, { limit: 10 }), { tasks: [], next: null });
});

test('list reports the next position only when more tasks follow', async (t) => {

    const { tasks } = t.context;
    const user = newUser();
    const created = [];
    for (let i = 0; i < 4; ++i) {
        created.push(await create(tasks, user, fields(`#${i}`)));
    }

    const first = await tasks.listTasksForUser(user, { limit: 2 });
    t.deepEqual(first.tasks.map((task) => task.title), ['#3', '#2']);
    t.deepEqual(first.next, { key: created[2].created_at, id: created[2].id });

    const second = await tasks.listTasksForUser(user, { limit: 2, after: first.next! });
    t.deepEqual(second.tasks.map((task) => task.title), ['#1', '#0']);
    t.is(second.next, null);
});
