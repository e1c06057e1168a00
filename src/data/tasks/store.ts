import { apiTimestamp } from '../../common/time';
import type { TaskLimits } from '../../config';
import type { Database } from '../database';
import type { Statement } from '../query';
import type { ChangeRead } from './changes';
import { readChanges } from './changes';
import type { TaskCreates } from './creates';
import { taskCreates } from './creates';
import type { TaskListOptions } from './list-query';
import { listShape, listStatement, positionOf } from './list-query';
import { asTask } from './rows';
import { searchStatements, searchTasks } from './search';
import type { EditableColumn, WriteStatements } from './statements';
import { editableColumns, taskStatements as sql, taskValues, trashStatements, updateStatements } from './statements';
import type { TaskStats, TrashedTask } from './types';
import type { PlacementRefusal } from './tree';
import { lockUser, moveTask, restoreTask, trashTask } from './tree';
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


/**
 * Every operation on a user's tasks. Each takes the owner's user id first and is scoped by it: another user's task
 * is indistinguishable from a missing one (null or false), as is an id that cannot name a task. A write given
 * `versions` happens only while the task is one of them, and answers 'modified' when it exists and is not.
 */
export interface TaskStore extends TaskCreates {
    getTaskForUser(userId: string, id: string): Promise<Task | null>;
    listTasksForUser(userId: string, options: TaskListOptions): Promise<TaskPage>;
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

    /** The fields that place a task, when any is given. */
    placementOf(fields: Placement): Placement | null {

        return fields.list_id === undefined && fields.parent_id === undefined ? null : { list_id: fields.list_id, parent_id: fields.parent_id };
    }
};


export function taskStore({ query, transaction }: Pick<Database, 'query' | 'transaction'>, limits: TaskLimits): TaskStore {

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const rows = async (statement: Statement, values: readonly unknown[]): Promise<any[]> => (await query(statement, values)).rows;
    const one = (statement: Statement, values: readonly unknown[]): Promise<Task | null> => query<Task>(statement, values).then(({ rows: [row] }) => asTask(row ?? null));

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

        ...taskCreates({ query, transaction }, limits),

        replaceTaskForUser(userId, id, fields, versions) {

            const placement = internals.placementOf(fields);
            if (placement) {
                return placedWrite(userId, id, placement, sql.replace, taskValues(fields), versions);
            }

            return write(sql.replace, userId, id, taskValues(fields), versions);
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
