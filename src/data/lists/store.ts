import type { Database } from '../database';
import { positionBetween, spreadPositions } from '../positions';
import type { Query } from '../query';
import { lockUser, matches } from '../tasks/tree';
import { listStatements as sql } from './statements';
import type { components } from '../../generated/openapi';
import type { Conditional, Versions } from '../../common/tasks';
import { isTaskId } from '../../common/tasks';
import { apiTimestamp } from '../../common/time';


export type List = components['schemas']['List'];
export type ListEntry = components['schemas']['ListEntry'];


/**
 * Every operation on a user's lists, scoped by the owner's user id as the task store's are: another user's list is
 * a missing one (null or false). A write given `versions` happens only while the list is one of them.
 */
export interface ListStore {
    listsForUser(userId: string): Promise<ListEntry[]>;
    getListForUser(userId: string, id: string): Promise<List | null>;
    /** The list, last among the user's; `limit-reached` when the user holds the most lists allowed. */
    createListForUser(userId: string, name: string): Promise<List | 'limit-reached'>;
    renameListForUser(userId: string, id: string, name: string | undefined, versions?: Versions): Promise<Conditional<List | null>>;
    /** Puts the list right after `after` (null: first); `unknown-after` when that is not another of the user's lists. */
    moveListForUser(userId: string, id: string, after: string | null, versions?: Versions): Promise<Conditional<List | null> | 'unknown-after'>;
    /** Deletes the list, moving its tasks to the trash. */
    deleteListForUser(userId: string, id: string, versions?: Versions): Promise<Conditional<boolean>>;
}


const internals = {
    /** A position right after `after` among the user's lists (`list` left out), spreading them again when too long. */
    async positionAfter(query: Query, userId: string, after: string | null, list: string | null): Promise<string | null> {

        const { rows: [near] } = await query<{ anchored: boolean; before: string | null; after: string | null }>(sql.neighbours, [userId, after, list]);
        if (after !== null && !near.anchored) {
            return null;
        }

        const key = positionBetween(near.before, near.after);
        if (key !== null) {
            return key;
        }

        const { rows } = await query<{ id: string }>(sql.ordered, [userId, list]);
        const ids = rows.map((row) => row.id);
        const at = after === null ? 0 : ids.indexOf(after) + 1;
        const keys = spreadPositions(ids.length + 1);
        await query(sql.setAside, [userId, ids]);
        await query(sql.setPositions, [userId, ids, keys.filter((_, i) => i !== at)]);
        return keys[at];
    }
};


export function listStore({ query, transaction }: Pick<Database, 'query' | 'transaction'>, limits: { maxListsPerUser: number }): ListStore {

    /** A write of one list in a transaction holding the user's lock, after its precondition. */
    const writeList = <T>(userId: string, id: string, versions: Versions | undefined, write: (query: Query, list: List) => Promise<T>): Promise<T | 'modified' | null> => {

        if (!isTaskId(id)) {
            return Promise.resolve(null);
        }

        return transaction(async (inTransaction) => {

            await lockUser(inTransaction, userId);
            const { rows: [list] } = await inTransaction<List>(sql.get, [userId, id]);
            if (!list) {
                return null;
            }

            if (!matches(list, versions)) {
                return 'modified';
            }

            return write(inTransaction, list);
        });
    };

    return {
        async listsForUser(userId) {

            return (await query<ListEntry>(sql.all, [userId])).rows.map(asList);
        },

        async getListForUser(userId, id) {

            return isTaskId(id) ? asList((await query<List>(sql.get, [userId, id])).rows[0] ?? null) : null;
        },

        createListForUser(userId, name) {

            return transaction(async (inTransaction) => {

                await lockUser(inTransaction, userId);
                const { rows: [tally] } = await inTransaction<{ count: number; last: string | null }>(sql.tally, [userId]);
                if (tally.count >= limits.maxListsPerUser) {
                    return 'limit-reached' as const;
                }

                const position = positionBetween(tally.last, null) ?? await internals.positionAfter(inTransaction, userId, null, null);
                return asList((await inTransaction<List>(sql.create, [userId, name, position])).rows[0]);
            });
        },

        renameListForUser(userId, id, name, versions) {

            return writeList(userId, id, versions, async (inTransaction, list) => {

                return name === undefined ? asList(list) : asList((await inTransaction<List>(sql.rename, [userId, id, name])).rows[0]);
            });
        },

        async moveListForUser(userId, id, after, versions) {

            if (after === id) {
                return isTaskId(id) && await this.getListForUser(userId, id) ? 'unknown-after' : null;
            }

            return writeList(userId, id, versions, async (inTransaction) => {

                const position = await internals.positionAfter(inTransaction, userId, after, id);
                if (position === null) {
                    return 'unknown-after' as const;
                }

                return asList((await inTransaction<List>(sql.place, [userId, id, position])).rows[0]);
            });
        },

        async deleteListForUser(userId, id, versions) {

            const deleted = await writeList(userId, id, versions, async (inTransaction) => {

                await inTransaction(sql.trashTasks, [userId, id]);
                await inTransaction(sql.delete, [userId, id]);
                return true;
            });

            return deleted ?? false;
        }
    };
}


/** A list as the database returned it, its timestamps in the API's form. */
function asList<T extends Pick<List, 'created_at' | 'updated_at'> | null>(row: T): T {

    if (row) {
        row.created_at = apiTimestamp(row.created_at)!;
        row.updated_at = apiTimestamp(row.updated_at)!;
    }

    return row;
}
