import Crypto from 'node:crypto';

import { apiTimestamp } from '../../common/time';
import type { TaskLimits } from '../../config';
import type { Database } from '../database';
import type { Statement } from '../query';
import type { ChangeRead } from './changes';
import { readChanges } from './changes';
import type { TaskListOptions } from './list-query';
import { listShape, listStatement, positionOf } from './list-query';
import { asTask } from './rows';
import { searchStatements, searchTasks } from './search';
import { positionFirst } from '../positions';
import { noneId } from './rows';
import type { EditableColumn, WriteStatements } from './statements';
import { editableColumns, taskStatements as sql, trashStatements, updateStatements } from './statements';
import type { TaskStats, TrashedTask } from './types';
import type { PlacementRefusal } from './tree';
import { findPlace, isPlaced, lockUser, moveTask, restoreTask, trashTask } from './tree';
import { treeStatements } from './tree-statements';
import type { Conditional, Placement, Task, TaskChanges, TaskFields, TaskPosition, Versions } from '../../common/tasks';
import { isTaskId } from '../../common/tasks';


export interface TaskPage {
    tasks: Task[];
    /** Position of the page's last task when more tasks follow it, else null. */
    next: TaskPosition | null;
}


export interface TrashPage {
    tasks: TrashedTask[];
    /** Where the next page starts when more trashed tasks follow this one, else null. */
    next: number | null;
}


/** What a create with an Idempotency-Key came to. */
export type KeyedCreate =
    | { outcome: 'created' | 'replayed'; task: Task }
    | { outcome: 'limit-reached' }
    /** The list, parent or sibling asked for is not there (see PlacementRefusal). */
    | { outcome: 'refused'; refusal: PlacementRefusal }
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
    /**
     * The task as stored, where its fields place it (first in the inbox by default); `limit-reached` when the user
     * already holds the most tasks allowed.
     */
    createTaskForUser(userId: string, fields: TaskFields): Promise<Task | 'limit-reached' | PlacementRefusal>;
    /**
     * A create that happens once per key: the first request stores its task as the answer; later ones with the same
     * fields get that answer back, with other fields `key-reused`, and neither creates anything.
     */
    createTaskOnceForUser(userId: string, key: string, fields: TaskFields): Promise<KeyedCreate>;
    /** Writes the fields; a list_id or parent_id given that is not where the task is moves it (see moveTaskForUser). */
    replaceTaskForUser(userId: string, id: string, fields: TaskFields, versions?: Versions): Promise<Conditional<Task | null> | PlacementRefusal>;
    /** Writes the fields given; with none, the task as it is (still refused when it is not a version named). */
    updateTaskForUser(userId: string, id: string, changes: TaskChanges, versions?: Versions): Promise<Conditional<Task | null> | PlacementRefusal>;
    /** Puts the task (and its subtree) right after `after` in the list and parent given (left out: its own). */
    moveTaskForUser(userId: string, id: string, placement: Placement, versions?: Versions): Promise<Conditional<Task | null> | PlacementRefusal>;
    /** Sets completed to the value given, or flips it in one statement when none is given. */
    setTaskCompletionForUser(userId: string, id: string, completed?: boolean, versions?: Versions): Promise<Conditional<Task | null>>;
    /** Moves the task and its subtree to the trash. */
    deleteTaskForUser(userId: string, id: string, versions?: Versions): Promise<Conditional<boolean>>;
    /** Moves the user's completed tasks (with their subtrees) to the trash and says how many tasks that was. */
    clearCompletedTasksForUser(userId: string): Promise<number>;
    taskStatsForUser(userId: string): Promise<TaskStats>;

    /** The user's trashed tasks, most recently deleted first, from `after` (a page's `next`). */
    listTrashForUser(userId: string, options: { limit: number; after?: number }): Promise<TrashPage>;
    /**
     * Brings a trashed task back with what was trashed with it (updated_at bumped); `limit-reached` leaves them in
     * the trash.
     */
    restoreTaskForUser(userId: string, id: string): Promise<Task | 'limit-reached' | null>;
    /** Removes a trashed task and its subtree for good: false when it is not in the user's trash. */
    purgeTaskForUser(userId: string, id: string): Promise<boolean>;
    /** Removes every task in the user's trash for good and says how many there were. */
    emptyTrashForUser(userId: string): Promise<number>;
    /** The user's changes after a version (null: from the start); see readChanges. */
    changesForUser(userId: string, since: number | null, limit: number): Promise<ChangeRead>;
}


const internals = {
    // Owners whose trash past the retention each trash write removes (see trashStatements.expire).
    expiredOwnersPerWrite: 4,

    // Attempts at a keyed create whose key another request holds or held (each waits for that request first).
    keyedAttempts: 3,

    // Attempts at a create first in the inbox whose position another create took meanwhile (then it is placed in a
    // transaction that holds the user's lock).
    firstAttempts: 3,

    // The inbox's top level, as tree.ts ranges siblings.
    inboxTop: [`${noneId}/${noneId}/`, `${noneId}/${noneId}0`],

    /** The task fields a key is remembered with: the same fields after validation are the same create. */
    fingerprint(fields: TaskFields): string {

        // Where the task goes counts only when the create says: keys stored by creates that said nothing keep
        // their fingerprints.
        const placed = fields.list_id !== undefined || fields.parent_id !== undefined || fields.after !== undefined;
        const canonical = JSON.stringify([fields.title, fields.description, fields.completed, fields.priority, fields.due_date,
            ...(placed ? [fields.list_id ?? null, fields.parent_id ?? null, fields.after ?? null] : [])]);
        return Crypto.createHash('sha256').update(canonical).digest('base64url');
    },

    isKeyConflict(err: unknown): boolean {

        return internals.isConflictOn(err, 'idempotency_keys_pkey');
    },

    /** A unique index refused a row: another write took the same value first. */
    isConflictOn(err: unknown, index: string): boolean {

        // The data boundary's error keeps the driver's as its own fields (Boom decorates the driver's error).
        const { code, constraint } = (err ?? {}) as { code?: string; constraint?: string };
        return code === '23505' && constraint === index;
    },

    /** The fields that place a task, when any is given. */
    placementOf(fields: Placement): Placement | null {

        return fields.list_id === undefined && fields.parent_id === undefined ? null : { list_id: fields.list_id, parent_id: fields.parent_id };
    },

    fieldValues(fields: TaskFields): unknown[] {

        return [fields.title, fields.description, fields.completed, fields.priority, fields.due_date];
    }
};


export function taskStore({ query, transaction }: Pick<Database, 'query' | 'transaction'>, limits: TaskLimits): TaskStore {

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
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

    /**
     * A write that also moves the task, in one transaction: the move (when the task is not where the placement
     * says), then the fields (statements null: none). The precondition holds for the task as it was before both.
     */
    const placedWrite = (userId: string, id: string, placement: Placement, statements: WriteStatements | null, values: unknown[], versions?: Versions): Promise<Conditional<Task | null> | PlacementRefusal> => {

        if (!isTaskId(id)) {
            return Promise.resolve(null);
        }

        return transaction(async (inTransaction) => {

            await lockUser(inTransaction, userId);
            const { rows: [current] } = await inTransaction<Task>(sql.get, [userId, id]);
            if (!current) {
                return null;
            }

            const stays = (placement.list_id === undefined || placement.list_id === current.list_id) &&
                (placement.parent_id === undefined || placement.parent_id === current.parent_id);
            let task: Task | PlacementRefusal | 'modified' | null = asTask(current);
            if (!stays) {
                task = await moveTask(inTransaction, userId, id, placement, limits.maxTaskDepth, versions);
            }
            else if (versions && !versions.includes(task.updated_at)) {
                return 'modified';
            }

            if (!task || task === 'modified' || !('id' in task) || !statements) {
                return task;
            }

            return asTask((await inTransaction<Task>(statements.plain, [userId, id, ...values])).rows[0] ?? null);
        });
    };

    const getTaskForUser = (userId: string, id: string): Promise<Task | null> => (isTaskId(id) ? one(sql.get, [userId, id]) : Promise.resolve(null));

    /** Trash writes clean what is past the retention as they go, so no scheduler is needed. */
    const expire = async (): Promise<void> => {

        await query(trashStatements.expire, [limits.trashRetentionDays, internals.expiredOwnersPerWrite]);
    };

    /** A trash write, then the cleaning. */
    const trashing = async <T>(result: T): Promise<T> => {

        await expire();
        return result;
    };

    return {
        getTaskForUser,

        async listTasksForUser(userId, options) {

            const list = listStatement(options);
            const found: (Task & { sort_key?: string })[] = options.search ?
                await searchTasks(query, searchStatements(options, listShape(options)), userId, options, limits.maxTasksPerUser) :
                await rows(list.statement, list.values(userId, options));
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

        async createTaskForUser(userId, fields) {

            const values = [userId, ...internals.fieldValues(fields), limits.maxTasksPerUser];

            // First in the inbox, the usual create: one read and one statement, again when another create took the
            // same position meanwhile.
            if (!isPlaced(fields)) {
                for (let attempt = 0; attempt < internals.firstAttempts; ++attempt) {
                    const { rows: [first] } = await query<{ position: string }>(treeStatements.first, [userId, ...internals.inboxTop]);
                    const position = positionFirst(first?.position ?? null);
                    if (position === null) {
                        break;
                    }

                    try {
                        return await one(sql.create, [...values, null, null, position]) ?? 'limit-reached';
                    }
                    catch (err) {
                        if (!internals.isConflictOn(err, 'tasks_user_place_idx')) {
                            throw err;
                        }
                    }
                }
            }

            return transaction(async (inTransaction) => {

                await lockUser(inTransaction, userId);
                const place = await findPlace(inTransaction, userId, fields, { list_id: null, parent_id: null }, null, limits.maxTaskDepth);
                if (!('position' in place)) {
                    return place;
                }

                const { rows: [created] } = await inTransaction<Task>(sql.create, [...values, place.list_id, place.parent_id, place.position]);
                return asTask(created) ?? 'limit-reached';
            });
        },

        async createTaskOnceForUser(userId, key, fields) {

            const fingerprint = internals.fingerprint(fields);
            const answer = (stored: { fingerprint: string; response: Task }): KeyedCreate => {

                return stored.fingerprint === fingerprint ? { outcome: 'replayed', task: asTask(stored.response) } : { outcome: 'key-reused' };
            };

            const values = [
                userId, ...internals.fieldValues(fields), limits.maxTasksPerUser,
                key, fingerprint, limits.idempotencyKeyTtlSec, limits.maxIdempotencyKeysPerUser - 1
            ];

            // Placed, the create runs in a transaction holding the user's lock, as every placed create does; first in
            // the inbox, in one statement, again when another create took the same position.
            const createOnce = async (): Promise<{ created?: Task; stored?: Task; fingerprint?: string } | PlacementRefusal | null> => {

                if (!isPlaced(fields)) {
                    const { rows: [first] } = await query<{ position: string }>(treeStatements.first, [userId, ...internals.inboxTop]);
                    const position = positionFirst(first?.position ?? null);
                    if (position !== null) {
                        try {
                            return (await rows(sql.createOnce, [...values, null, null, position]))[0];
                        }
                        catch (err) {
                            if (internals.isConflictOn(err, 'tasks_user_place_idx')) {
                                return null;
                            }

                            throw err;
                        }
                    }
                }

                return transaction(async (inTransaction) => {

                    await lockUser(inTransaction, userId);
                    const place = await findPlace(inTransaction, userId, fields, { list_id: null, parent_id: null }, null, limits.maxTaskDepth);
                    if (!('position' in place)) {
                        return place;
                    }

                    return (await inTransaction(sql.createOnce, [...values, place.list_id, place.parent_id, place.position])).rows[0];
                });
            };

            for (let attempt = 0; attempt < internals.keyedAttempts; ++attempt) {
                try {
                    const row = await createOnce();
                    if (row === null) {
                        continue;
                    }

                    if ('refused' in row || 'conflict' in row) {
                        return { outcome: 'refused', refusal: row };
                    }

                    if (row.created) {
                        return { outcome: 'created', task: asTask(row.created) };
                    }

                    return row.stored ? answer({ fingerprint: row.fingerprint!, response: row.stored }) : { outcome: 'limit-reached' };
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

            const placement = internals.placementOf(fields);
            if (placement) {
                return placedWrite(userId, id, placement, sql.replace, internals.fieldValues(fields), versions);
            }

            return write(sql.replace, userId, id, internals.fieldValues(fields), versions);
        },

        async updateTaskForUser(userId, id, changes, versions) {

            const columns = editableColumns.filter((column: EditableColumn) => changes[column] !== undefined);
            const placement = internals.placementOf(changes);
            if (placement) {
                return placedWrite(userId, id, placement, columns.length ? updateStatements(columns) : null, columns.map((column) => changes[column]), versions);
            }

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

        moveTaskForUser(userId, id, placement, versions) {

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            return transaction(async (inTransaction) => {

                await lockUser(inTransaction, userId);
                return moveTask(inTransaction, userId, id, placement, limits.maxTaskDepth, versions);
            });
        },

        async deleteTaskForUser(userId, id, versions) {

            if (!isTaskId(id)) {
                return false;
            }

            return trashing(await transaction(async (inTransaction) => {

                await lockUser(inTransaction, userId);
                return trashTask(inTransaction, userId, id, versions);
            }));
        },

        async clearCompletedTasksForUser(userId) {

            return trashing(await transaction(async (inTransaction) => {

                await lockUser(inTransaction, userId);
                return (await inTransaction(treeStatements.clearCompleted, [userId])).rowCount;
            }));
        },

        async taskStatsForUser(userId) {

            return (await rows(sql.stats, [userId]))[0];
        },

        async listTrashForUser(userId, { limit, after }) {

            const found: (TrashedTask & { version?: string })[] = after === undefined ?
                await rows(sql.trash, [userId, limits.trashRetentionDays, limit + 1]) :
                await rows(sql.trashAfter, [userId, limits.trashRetentionDays, limit + 1, after]);

            const more = found.length > limit;
            if (more) {
                found.length = limit;
            }

            const next = more ? Number(found[found.length - 1].version) : null;
            const tasks = found.map(({ version: _, ...task }) => {

                asTask(task);
                task.deleted_at = apiTimestamp(task.deleted_at)!;
                return task;
            });

            return { tasks, next };
        },

        restoreTaskForUser(userId, id) {

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            return transaction(async (inTransaction) => {

                await lockUser(inTransaction, userId);
                return restoreTask(inTransaction, userId, id, { retentionDays: limits.trashRetentionDays, maxTasks: limits.maxTasksPerUser, maxDepth: limits.maxTaskDepth });
            });
        },

        async purgeTaskForUser(userId, id) {

            if (!isTaskId(id)) {
                return false;
            }

            // One tombstone per task removed: the task's, and one for each of its subtasks.
            return trashing(((await query(sql.purge, [userId, id, limits.trashRetentionDays])).rowCount ?? 0) > 0);
        },

        async emptyTrashForUser(userId) {

            return trashing((await query(sql.emptyTrash, [userId, limits.trashRetentionDays])).rowCount);
        },

        changesForUser(userId, since, limit) {

            return readChanges({ query }, userId, since, limit);
        }
    };
}
