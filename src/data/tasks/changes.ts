import { apiTimestamp } from '../../common/time';
import type { Database } from '../database';
import { statement } from '../query';
import { utcTimestampColumn } from '../time';
import { asTask, taskColumns } from './rows';
import type { Task } from '../../common/tasks';


// The change feed: a user's changes after a version, oldest first. Each write takes the user's next version and
// stamps the task it writes with it (statements.ts), so the tasks whose version is above v, in their latest state,
// and the tombstones above v are every change since v. A version a reader sees was committed after every lower one
// (the migration 20261207090000 says why), so a page that ends at v leaves nothing below v for later.


export type Change =
    | { op: 'upsert'; version: number; task: Task }
    | { op: 'delete'; version: number; id: string; deleted_at: string };


export type ChangeRead =
    /** `version`: where this read ends (the next read's `since`); `more`: changes follow it. */
    | { outcome: 'changes'; changes: Change[]; version: number; more: boolean }
    /** The changes after `since` are not all remembered (tombstones past the retention are gone), or `since` is
     *  later than anything the user has: the client must sync from the start. */
    | { outcome: 'forgotten' };


interface ChangeRow extends Task {
    version: number;
    deleted_at: string | null;
    /** A tombstone's row carries only id, version and deleted_at. */
    tombstone: boolean;
}


const internals = {
    // The head and the horizon as of the statement's snapshot, read with the changes so that all three agree.
    head: `
        head as (
            select coalesce(max(version), 0) as version, coalesce(max(forgotten), 0) as forgotten
            from user_versions where user_id = $1
        )`,

    select(changes: string): string {

        return `
            with ${internals.head},
            changes as (${changes})
            select head.version, head.forgotten,
                coalesce((select json_agg(changes order by changes.version) from changes), '[]'::json) as changes
            from head`;
    },

    tombstoneColumns: 'id, user_id, null::text as title, null::text as description, null::boolean as completed, null::text as priority, ' +
        'null::text as due_date, null::text as created_at, null::text as updated_at',

    asChange(row: ChangeRow): Change {

        if (row.tombstone || row.deleted_at !== null) {
            return { op: 'delete', version: Number(row.version), id: row.id, deleted_at: apiTimestamp(row.deleted_at)! };
        }

        const { version, deleted_at: _, tombstone: __, ...task } = row;
        return { op: 'upsert', version: Number(version), task: asTask(task) };
    }
};


export const changeStatements = {
    // $1 user, $2 the version after which, $3 the most rows. Tasks in the trash are deletes; a tombstone whose id is
    // a task again (a seed file's fixed id, inserted again) is left out: the task's own row says what it is now.
    after: statement('changes.after', internals.select(`
        select * from (
            (select ${taskColumns}, version, ${utcTimestampColumn('deleted_at')}, false as tombstone from tasks
                where user_id = $1 and version > $2 order by version limit $3)
            union all
            (select ${internals.tombstoneColumns}, version, ${utcTimestampColumn('deleted_at')}, true as tombstone from task_tombstones as gone
                where user_id = $1 and version > $2
                    and not exists (select 1 from tasks where tasks.user_id = $1 and tasks.id = gone.id)
                order by version limit $3)
        ) as both_kinds
        order by version limit $3`)),
    // From the start: the live tasks only (whatever was deleted before, the client never had).
    start: statement('changes.start', internals.select(`
        select ${taskColumns}, version, null::text as deleted_at, false as tombstone from tasks
        where user_id = $1 and version > $2 and deleted_at is null order by version limit $3`))
};


/**
 * The user's changes after version `since` (null: from the start, every live task as an upsert), at most `limit`
 * of them, each task once in its latest state. The stream calls it after a notification of the user's new version,
 * as the feed does on each request.
 */
export async function readChanges({ query }: Pick<Database, 'query'>, userId: string, since: number | null, limit: number): Promise<ChangeRead> {

    const statement = since === null ? changeStatements.start : changeStatements.after;
    const { rows: [row] } = await query<{ version: string; forgotten: string; changes: ChangeRow[] }>(statement, [userId, since ?? 0, limit + 1]);
    const head = Number(row.version);
    if (since !== null && (since < Number(row.forgotten) || since > head)) {
        return { outcome: 'forgotten' };
    }

    const more = row.changes.length > limit;
    const changes = row.changes.slice(0, limit).map(internals.asChange);
    const version = more ? changes[changes.length - 1].version : Math.max(head, since ?? 0);
    return { outcome: 'changes', changes, version, more };
}
