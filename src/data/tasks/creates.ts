import Crypto from 'node:crypto';

import type { TaskLimits } from '../../config';
import type { Database } from '../database';
import type { Statement } from '../query';
import { positionFirst } from '../positions';
import { asTask, noneId } from './rows';
import { taskStatements as sql, taskValues } from './statements';
import type { PlacementRefusal } from './tree';
import { findPlace, isPlaced, lockUser } from './tree';
import { treeStatements } from './tree-statements';
import type { Task, TaskFields } from '../../common/tasks';


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


/** The two ways a task is created, scoped by its owner's user id as every operation of the task store. */
export interface TaskCreates {
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
}


interface KeyedRow {
    created?: Task;
    stored?: Task;
    fingerprint?: string;
}


const internals = {
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

    /** A unique index refused a row: another write took the same value first. */
    isConflictOn(err: unknown, index: string): boolean {

        // The data boundary's error keeps the driver's as its own fields (Boom decorates the driver's error).
        const { code, constraint } = (err ?? {}) as { code?: string; constraint?: string };
        return code === '23505' && constraint === index;
    }
};


export function taskCreates({ query, transaction }: Pick<Database, 'query' | 'transaction'>, limits: TaskLimits): TaskCreates {

    /**
     * Runs a create statement, whose last three values are the task's list, parent and position, where the fields
     * place the task. First in the inbox (the fields say nothing), the usual create: one read of the first position
     * and the statement, again when another create took that position meanwhile. Anywhere else, or when those
     * attempts fail, in a transaction holding the user's lock. The statement's row, or why the place was refused.
     */
    const placed = async <Row>(statement: Statement, userId: string, fields: TaskFields, values: unknown[]): Promise<{ row: Row | undefined } | PlacementRefusal> => {

        if (!isPlaced(fields)) {
            for (let attempt = 0; attempt < internals.firstAttempts; ++attempt) {
                const { rows: [first] } = await query<{ position: string }>(treeStatements.first, [userId, ...internals.inboxTop]);
                const position = positionFirst(first?.position ?? null);
                if (position === null) {
                    break;
                }

                try {
                    return { row: (await query<Row>(statement, [...values, null, null, position])).rows[0] };
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

            return { row: (await inTransaction<Row>(statement, [...values, place.list_id, place.parent_id, place.position])).rows[0] };
        });
    };

    return {
        async createTaskForUser(userId, fields) {

            const created = await placed<Task>(sql.create, userId, fields, [userId, ...taskValues(fields), limits.maxTasksPerUser]);
            if (!('row' in created)) {
                return created;
            }

            return asTask(created.row) ?? 'limit-reached';
        },

        async createTaskOnceForUser(userId, key, fields) {

            const fingerprint = internals.fingerprint(fields);
            const answer = (stored: { fingerprint: string; response: Task }): KeyedCreate => {

                return stored.fingerprint === fingerprint ? { outcome: 'replayed', task: asTask(stored.response) } : { outcome: 'key-reused' };
            };

            const values = [
                userId, ...taskValues(fields), limits.maxTasksPerUser,
                key, fingerprint, limits.idempotencyKeyTtlSec, limits.maxIdempotencyKeysPerUser - 1
            ];

            for (let attempt = 0; attempt < internals.keyedAttempts; ++attempt) {
                try {
                    const result = await placed<KeyedRow>(sql.createOnce, userId, fields, values);
                    if (!('row' in result)) {
                        return { outcome: 'refused', refusal: result };
                    }

                    const row = result.row!;
                    if (row.created) {
                        return { outcome: 'created', task: asTask(row.created) };
                    }

                    return row.stored ? answer({ fingerprint: row.fingerprint!, response: row.stored }) : { outcome: 'limit-reached' };
                }
                catch (err) {
                    if (!internals.isConflictOn(err, 'idempotency_keys_pkey')) {
                        throw err;
                    }
                }

                // The key was taken after this statement's snapshot (by a request it then waited for), or it is an
                // expired one not yet cleaned: read it as it is now.
                const { rows: [stored] } = await query<{ fingerprint: string; response: Task; live: boolean }>(sql.storedKey, [userId, key]);
                if (stored?.live) {
                    return answer(stored);
                }

                if (stored) {
                    await query(sql.expiredKey, [userId, key]);
                }
            }

            return { outcome: 'key-unsettled' };
        }
    };
}
