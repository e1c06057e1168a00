import type { Knex } from 'knex';

import type { components } from '../generated/openapi';
import type { Database } from './database';
import { timestampColumn } from './database';


export type Task = components['schemas']['Task'];
export type TaskFields = components['schemas']['TaskCreate'];
export type TaskChanges = components['schemas']['TaskPatch'];


/** Where a page starts: just after this task in newest-first order. */
export interface TaskPosition {
    created_at: string;
    id: string;
}


export interface TaskListOptions {
    completed?: boolean;
    limit: number;
    after?: TaskPosition;
}


export interface TaskPage {
    tasks: Task[];
    /** Position of the page's last task when more tasks follow it, else null. */
    next: TaskPosition | null;
}


const internals = {
    uuidRx: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,

    // Timestamps leave the database already in the API's form, so no Date round trip per row.
    columns: [
        'id', 'user_id', 'title', 'description', 'completed', 'priority',
        timestampColumn('due_date'), timestampColumn('created_at'), timestampColumn('updated_at')
    ].join(', '),

    // Strictly later than the previous value even when two changes land within the same microsecond.
    touched: 'updated_at = greatest(clock_timestamp(), updated_at + interval \'1 microsecond\')',

    editable: ['title', 'description', 'completed', 'priority', 'due_date'] as const
};


export function isTaskId(value: string): boolean {

    return internals.uuidRx.test(value);
}


/**
 * Every statement on tasks. Each method takes the owner's user id first and scopes its own query by it:
 * another user's task is indistinguishable from a missing one.
 */
export function taskStore(db: Database) {

    const returning = `returning ${internals.columns}`;

    const one = async (sql: string, bindings: readonly Knex.RawBinding[]): Promise<Task | null> => {

        const result = await db.raw(sql, bindings);
        return result.rows[0] ?? null;
    };

    const getTaskForUser = (userId: string, id: string): Promise<Task | null> => {

        if (!isTaskId(id)) {
            return Promise.resolve(null);
        }

        return one(`select ${internals.columns} from tasks where user_id = ? and id = ?`, [userId, id]);
    };

    return {
        getTaskForUser,

        async listTasksForUser(userId: string, options: TaskListOptions): Promise<TaskPage> {

            const where = ['user_id = ?'];
            const bindings: Knex.RawBinding[] = [userId];

            if (options.completed !== undefined) {
                where.push('completed = ?');
                bindings.push(options.completed);
            }

            if (options.after) {
                where.push('(created_at, id) < (?::timestamptz, ?::uuid)');
                bindings.push(options.after.created_at, options.after.id);
            }

            // One row more than the page tells whether a next page exists without a count query.
            bindings.push(options.limit + 1);
            const result = await db.raw(`
                select ${internals.columns} from tasks
                where ${where.join(' and ')}
                order by created_at desc, id desc
                limit ?`, bindings);

            const tasks: Task[] = result.rows;
            if (tasks.length <= options.limit) {
                return { tasks, next: null };
            }

            tasks.length = options.limit;
            const last = tasks[tasks.length - 1];
            return { tasks, next: { created_at: last.created_at, id: last.id } };
        },

        async createTaskForUser(userId: string, fields: TaskFields): Promise<Task> {

            const task = await one(`
                insert into tasks (user_id, title, description, completed, priority, due_date)
                values (?, ?, ?, ?, ?, ?)
                ${returning}`,
                [userId, fields.title, fields.description, fields.completed, fields.priority, fields.due_date]);

            return task!;
        },

        replaceTaskForUser(userId: string, id: string, fields: TaskFields): Promise<Task | null> {

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            return one(`
                update tasks
                set title = ?, description = ?, completed = ?, priority = ?, due_date = ?, ${internals.touched}
                where user_id = ? and id = ?
                ${returning}`,
                [fields.title, fields.description, fields.completed, fields.priority, fields.due_date, userId, id]);
        },

        updateTaskForUser(userId: string, id: string, changes: TaskChanges): Promise<Task | null> {

            const columns = internals.editable.filter((column) => changes[column] !== undefined);
            if (!columns.length) {
                return getTaskForUser(userId, id);
            }

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            const assignments = columns.map((column) => `${column} = ?`);
            return one(`
                update tasks
                set ${assignments.join(', ')}, ${internals.touched}
                where user_id = ? and id = ?
                ${returning}`,
                [...columns.map((column) => changes[column] as Knex.RawBinding), userId, id]);
        },

        /** Sets completed to the value given, or flips it in one statement when none is given. */
        setTaskCompletionForUser(userId: string, id: string, completed?: boolean): Promise<Task | null> {

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            const assignment = completed === undefined ? 'completed = not completed' : 'completed = ?';
            const bindings = completed === undefined ? [userId, id] : [completed, userId, id];
            return one(`
                update tasks
                set ${assignment}, ${internals.touched}
                where user_id = ? and id = ?
                ${returning}`,
                bindings);
        },

        async deleteTaskForUser(userId: string, id: string): Promise<boolean> {

            if (!isTaskId(id)) {
                return false;
            }

            const result = await db.raw('delete from tasks where user_id = ? and id = ?', [userId, id]);
            return result.rowCount === 1;
        }
    };
}


export type TaskStore = ReturnType<typeof taskStore>;
