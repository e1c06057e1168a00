import Crypto from 'node:crypto';

import type { TaskLimits } from '../../config';
import type { Database } from '../database';
import type { Statement } from '../query';
import type { TaskListOptions } from './list-query';
import { listStatement, positionOf } from './list-query';
import { asTask } from './rows';
import type { EditableColumn, WriteStatements } from './statements';
import { editableColumns, taskStatements as sql, updateStatements } from './statements';
import type { TaskStats } from './types';
import type { Conditional, Task, TaskChanges, TaskFields, TaskPosition, Versions } from '../../common/tasks';
import { isTaskId } from '../../common/tasks';


export interface TaskPage {
    tasks: Task[];
    /** Position of the page's last task when more tasks follow it, else null. */
    next: TaskPosition | null;
}


/** What a create with an Idempotency-Key came to. */
export type KeyedCreate =
    | { outcome: 'created' | 'replayed'; task: Task }
    | { outcome: 'limit-reached' }
    /** The key was used before with other task fields. */
    | { outcome: 'key-reused' }
    /** Another request with the key kept it from being settled (it failed and retried, several times over). */
    | { outcome: 'key-unsettled' };


/**
 * Every operation on a user's tasks. Each takes the owner's user id first and is scoped by it: another user's task
 * is indistinguishable from a missing one (null or false), as is an id that cannot name a task. A write given
 * `versions` happens only while the task is one of them, and answers 'modified' when it exists and is not.
 */
export interface TaskStore {
    getTaskForUser(userId: string, id: string): Promise<Task | null>;
    listTasksForUser(userId: string, options: TaskListOptions): Promise<TaskPage>;
    /** The task as stored, or null when the user already holds the most tasks allowed. */
    createTaskForUser(userId: string, fields: TaskFields): Promise<Task | null>;
    /**
     * A create that happens once per key: the first request stores its task as the answer; later ones with the same
     * fields get that answer back, with other fields `key-reused`, and neither creates anything.
     */
    createTaskOnceForUser(userId: string, key: string, fields: TaskFields): Promise<KeyedCreate>;
    replaceTaskForUser(userId: string, id: string, fields: TaskFields, versions?: Versions): Promise<Conditional<Task | null>>;
    /** Writes the fields given; with none, the task as it is (still refused when it is not a version named). */
    updateTaskForUser(userId: string, id: string, changes: TaskChanges, versions?: Versions): Promise<Conditional<Task | null>>;
    /** Sets completed to the value given, or flips it in one statement when none is given. */
    setTaskCompletionForUser(userId: string, id: string, completed?: boolean, versions?: Versions): Promise<Conditional<Task | null>>;
    deleteTaskForUser(userId: string, id: string, versions?: Versions): Promise<Conditional<boolean>>;
    /** Deletes the user's completed tasks and says how many there were. */
    clearCompletedTasksForUser(userId: string): Promise<number>;
    taskStatsForUser(userId: string): Promise<TaskStats>;
}


const internals = {
    // Attempts at a keyed create whose key another request holds or held (each waits for that request first).
    keyedAttempts: 3,

    /** The task fields a key is remembered with: the same fields after validation are the same create. */
    fingerprint(fields: TaskFields): string {

        const canonical = JSON.stringify([fields.title, fields.description, fields.completed, fields.priority, fields.due_date]);
        return Crypto.createHash('sha256').update(canonical).digest('base64url');
    },

    isKeyConflict(err: unknown): boolean {

        // The data boundary's error keeps the driver's as its own fields (Boom decorates the driver's error).
        const { code, constraint } = (err ?? {}) as { code?: string; constraint?: string };
        return code === '23505' && constraint === 'idempotency_keys_pkey';
    },

    fieldValues(fields: TaskFields): unknown[] {

        return [fields.title, fields.description, fields.completed, fields.priority, fields.due_date];
    }
};


export function taskStore({ query }: Pick<Database, 'query'>, limits: TaskLimits): TaskStore {

    const rows = async (statement: Statement, values: readonly unknown[]): Promise<any[]> => (await query(statement, values)).rows;
    const one = async (statement: Statement, values: readonly unknown[]): Promise<Task | null> => asTask((await rows(statement, values))[0] ?? null);

    /** A write as is, or with its precondition ($1 user, $2 id, then the values, then the versions). */
    const write = async (statements: WriteStatements, userId: string, id: string, values: unknown[], versions?: Versions): Promise<Conditional<Task | null>> => {

        if (!isTaskId(id)) {
            return null;
        }

        if (!versions) {
            return one(statements.plain, [userId, id, ...values]);
        }

        const [row] = await rows(statements.matching, [userId, id, ...values, versions.join(',')]);
        return asTask(row.task) ?? (row.present ? 'modified' : null);
    };

    const getTaskForUser = async (userId: string, id: string): Promise<Task | null> => (isTaskId(id) ? one(sql.get, [userId, id]) : null);

    return {
        getTaskForUser,

        async listTasksForUser(userId, options) {

            const list = listStatement(options);
            const found: (Task & { sort_key?: string })[] = await rows(list.statement, list.values(userId, options));
            for (const task of found) {
                asTask(task);
            }

            const more = found.length > options.limit;
            if (more) {
                found.length = options.limit;
            }

            const next = more ? positionOf(found[found.length - 1], options.sort) : null;
            const tasks = list.strip ? found.map(({ sort_key: _, ...task }) => task) : found;
            return { tasks, next };
        },

        createTaskForUser(userId, fields) {

            return one(sql.create, [userId, ...internals.fieldValues(fields), limits.maxTasksPerUser]);
        },

        async createTaskOnceForUser(userId, key, fields) {

            const fingerprint = internals.fingerprint(fields);
            const answer = (stored: { fingerprint: string; response: Task }): KeyedCreate => {

                return stored.fingerprint === fingerprint ? { outcome: 'replayed', task: asTask(stored.response) } : { outcome: 'key-reused' };
            };

            for (let attempt = 0; attempt < internals.keyedAttempts; ++attempt) {
                try {
                    const [row] = await rows(sql.createOnce, [
                        userId, ...internals.fieldValues(fields), limits.maxTasksPerUser,
                        key, fingerprint, limits.idempotencyKeyTtlSec, limits.maxIdempotencyKeysPerUser - 1
                    ]);

                    if (row.created) {
                        return { outcome: 'created', task: asTask(row.created) };
                    }

                    return row.stored ? answer({ fingerprint: row.fingerprint, response: row.stored }) : { outcome: 'limit-reached' };
                }
                catch (err) {
                    if (!internals.isKeyConflict(err)) {
                        throw err;
                    }
                }

                // The key was taken after this statement's snapshot (by a request it then waited for), or it is an
                // expired one not yet cleaned: read it as it is now.
                const [stored] = await rows(sql.storedKey, [userId, key]);
                if (stored?.live) {
                    return answer(stored);
                }

                if (stored) {
                    await query(sql.expiredKey, [userId, key]);
                }
            }

            return { outcome: 'key-unsettled' };
        },

        replaceTaskForUser(userId, id, fields, versions) {

            return write(sql.replace, userId, id, internals.fieldValues(fields), versions);
        },

        async updateTaskForUser(userId, id, changes, versions) {

            const columns = editableColumns.filter((column: EditableColumn) => changes[column] !== undefined);
            if (columns.length) {
                return write(updateStatements(columns), userId, id, columns.map((column) => changes[column]), versions);
            }

            if (!versions || !isTaskId(id)) {
                return getTaskForUser(userId, id);
            }

            const [row] = await rows(sql.getMatching, [userId, id, versions.join(',')]);
            if (!row) {
                return null;
            }

            const { matched, ...task } = row;
            return matched ? asTask(task as Task) : 'modified';
        },

        setTaskCompletionForUser(userId, id, completed, versions) {

            return completed === undefined ?
                write(sql.toggle, userId, id, [], versions) :
                write(sql.complete, userId, id, [completed], versions);
        },

        async deleteTaskForUser(userId, id, versions) {

            if (!isTaskId(id)) {
                return false;
            }

            if (!versions) {
                return (await query(sql.delete, [userId, id])).rowCount === 1;
            }

            const [row] = await rows(sql.deleteMatching, [userId, id, versions.join(',')]);
            return row.deleted || (row.present ? 'modified' : false);
        },

        async clearCompletedTasksForUser(userId) {

            return (await query(sql.clearCompleted, [userId])).rowCount;
        },

        async taskStatsForUser(userId) {

            return (await rows(sql.stats, [userId]))[0];
        }
    };
}
