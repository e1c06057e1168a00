import type { Database } from '../database';
import { trashStatements } from './statements';


export interface TrashPurge {
    /** Trashed tasks removed for good. */
    tasks: number;
    /** Tombstones past the retention removed (the feed forgets those deletes). */
    tombstones: number;
}


const internals = {
    // Rows per statement for the purge by age, and owners per statement for the retention.
    batch: 1000,
    ownersPerPass: 100
};


/**
 * todo-admin's purge, across users: every trashed task deleted at least `olderThanSec` ago is removed for good
 * (leaving its tombstone for the feed), when given; then whatever is past the retention, tombstones included, as
 * the trash writes remove it a few owners at a time. Batches keep each statement short on a busy table.
 */
export async function purgeTrash({ query }: Pick<Database, 'query'>, options: { olderThanSec: number | null; retentionDays: number }): Promise<TrashPurge> {

    const purged: TrashPurge = { tasks: 0, tombstones: 0 };
    if (options.olderThanSec !== null) {
        for (;;) {
            const { rowCount } = await query(trashStatements.purgeOlder, [options.olderThanSec, internals.batch]);
            purged.tasks += rowCount;
            if (rowCount < internals.batch) {
                break;
            }
        }
    }

    for (;;) {
        const { rows: [pass] } = await query<{ tasks: number; tombstones: number }>(trashStatements.expire, [options.retentionDays, internals.ownersPerPass]);
        purged.tasks += pass.tasks;
        purged.tombstones += pass.tombstones;
        // An owner whose write is in flight is skipped: it is left for the next purge, or the next trash write.
        if (pass.tasks + pass.tombstones === 0) {
            break;
        }
    }

    return purged;
}
