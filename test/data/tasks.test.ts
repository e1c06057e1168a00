import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import { parseTaskLimits } from '../../src/config';
import type { Task, TaskFields } from '../../src/common/tasks';
import type { TaskStore } from '../../src/data/tasks';
import { taskStore } from '../../src/data/tasks';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';


const test = anyTest as TestFn<{ database: TestDatabase; tasks: TaskStore }>;
const fields = (title: string, more: Partial<TaskFields> = {}): TaskFields => ({ title, description: null, completed: false, priority: 'medium', due_date: null, ...more });
const newUser = () => `data-${Crypto.randomUUID()}`;

async function create(tasks: TaskStore, user: string, taskFields: TaskFields): Promise<Task> {

    const task = await tasks.createTaskForUser(user, taskFields);
    if (typeof task !== 'object' || !('id' in task)) {
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
    await t.throwsAsync(db.knex.raw('insert into tasks (user_id, title) values (?, ?)', [user, '   ']));
    await t.throwsAsync(db.knex.raw('insert into tasks (user_id, title) values (?, ?)', [user, 'x'.repeat(201)]));
    await t.throwsAsync(db.knex.raw('insert into tasks (user_id, title, priority) values (?, ?, ?)', [user, 'ok', 'urgent']));
    await t.throwsAsync(db.knex.raw('insert into tasks (user_id, title, description) values (?, ?, ?)', [user, 'ok', 'd'.repeat(4001)]));
    await t.throwsAsync(db.knex.raw('insert into tasks (title) values (?)', ['no owner']));
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

test('conditional writes: a matching version writes, another is "modified", another user\'s task is null either way', async (t) => {

    const { tasks } = t.context;
    const [alice, bob] = [newUser(), newUser()];
    const task = await create(tasks, alice, fields('versioned'));
    const stale = ['2001-01-01T00:00:00.000000Z'];

    for (const versions of [stale, [], [task.updated_at]]) {
        t.is(await tasks.replaceTaskForUser(bob, task.id, fields('taken'), versions), null);
        t.is(await tasks.updateTaskForUser(bob, task.id, { title: 'taken' }, versions), null);
        t.is(await tasks.updateTaskForUser(bob, task.id, {}, versions), null);
        t.is(await tasks.setTaskCompletionForUser(bob, task.id, undefined, versions), null);
        t.false(await tasks.deleteTaskForUser(bob, task.id, versions));
    }

    t.is(await tasks.replaceTaskForUser(alice, task.id, fields('stale'), stale), 'modified');
    t.is(await tasks.updateTaskForUser(alice, task.id, { title: 'stale' }, stale), 'modified');
    t.is(await tasks.updateTaskForUser(alice, task.id, {}, stale), 'modified');
    t.is(await tasks.setTaskCompletionForUser(alice, task.id, true, stale), 'modified');
    t.is(await tasks.deleteTaskForUser(alice, task.id, stale), 'modified');
    t.deepEqual(await tasks.getTaskForUser(alice, task.id), task);

    t.deepEqual(await tasks.updateTaskForUser(alice, task.id, {}, [task.updated_at]), task);
    const changed = await tasks.updateTaskForUser(alice, task.id, { title: 'fresh' }, [...stale, task.updated_at]);
    t.like(changed, { id: task.id, title: 'fresh' });
    t.is(await tasks.updateTaskForUser(alice, task.id, { title: 'again' }, [task.updated_at]), 'modified', 'the old version is gone');
    t.true(await tasks.deleteTaskForUser(alice, task.id, [(changed as Task).updated_at]));
});

test('keyed creates, stats and clearing completed are scoped to the user', async (t) => {

    const { tasks } = t.context;
    const [alice, bob] = [newUser(), newUser()];

    const first = await tasks.createTaskOnceForUser(alice, 'same-key', fields('alice', { completed: true }));
    const other = await tasks.createTaskOnceForUser(bob, 'same-key', fields('bob', { completed: true }));
    t.is(first.outcome, 'created');
    t.is(other.outcome, 'created', 'bob\'s key is his own');
    t.deepEqual(await tasks.createTaskOnceForUser(alice, 'same-key', fields('alice', { completed: true })), { outcome: 'replayed', task: (first as { task: Task }).task });
    t.deepEqual(await tasks.createTaskOnceForUser(alice, 'same-key', fields('alice')), { outcome: 'key-reused' });

    await create(tasks, alice, fields('alice pending', { due_date: '2001-01-01T00:00:00.000Z' }));
    t.deepEqual(await tasks.taskStatsForUser(alice), { total: 2, pending: 1, completed: 1, overdue: 1 });
    t.deepEqual(await tasks.taskStatsForUser(bob), { total: 1, pending: 0, completed: 1, overdue: 0 });

    t.is(await tasks.clearCompletedTasksForUser(alice), 1);
    t.deepEqual(await tasks.taskStatsForUser(alice), { total: 1, pending: 1, completed: 0, overdue: 1 });
    t.deepEqual(await tasks.taskStatsForUser(bob), { total: 1, pending: 0, completed: 1, overdue: 0 }, 'bob\'s completed task stays');
});

test('the task limit is part of the insert: a full account gets null (or limit-reached) and nothing is stored', async (t) => {

    const { db } = t.context.database;
    const tasks = taskStore(db, { maxTasksPerUser: 2, maxListsPerUser: 10, maxTaskDepth: 4, idempotencyKeyTtlSec: 60, maxIdempotencyKeysPerUser: 10, trashRetentionDays: 30 });
    const user = newUser();

    t.truthy(await tasks.createTaskForUser(user, fields('one')));
    const keyed = await tasks.createTaskOnceForUser(user, 'k', fields('two'));
    t.is(keyed.outcome, 'created');
    t.is(await tasks.createTaskForUser(user, fields('three')), 'limit-reached');
    t.deepEqual(await tasks.createTaskOnceForUser(user, 'k2', fields('three')), { outcome: 'limit-reached' });
    t.deepEqual(await tasks.createTaskOnceForUser(user, 'k', fields('two')), { outcome: 'replayed', task: (keyed as { task: Task }).task }, 'a replay needs no room');

    const { rows } = await db.knex.raw('select count(*)::int as count from tasks where user_id = ?', [user]);
    t.is(rows[0].count, 2);
});
