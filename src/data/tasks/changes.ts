import { apiTimestamp } from '../../common/time';
import type { Database } from '../database';
import { statement } from '../query';
import { utcTimestampColumn } from '../time';
import { asTask, taskColumns } from './rows';
import type { Task } from '../../common/tasks';
import type { List } from '../lists';
import { listColumns } from '../lists/statements';


// The change feed: a user's changes after a version, oldest first. Each write takes the user's next version and
// stamps the task it writes with it (statements.ts), so the tasks whose version is above v, in their latest state,
// and the tombstones above v are every change since v. A version a reader sees was committed after every lower one
// (the migration 20261207090000 says why), so a page that ends at v leaves nothing below v for later.


export type Change =
    | { type: 'task'; op: 'upsert'; version: number; task: Task }
    | { type: 'list'; op: 'upsert'; version: number; list: List }
    | { type: 'task' | 'list'; op: 'delete'; version: number; id: string; deleted_at: string };


export type ChangeRead =
    /** `version`: where this read ends (the next read's `since`); `more`: changes follow it. */
    | { outcome: 'changes'; changes: Change[]; version: number; more: boolean }
    /** The changes after `since` are not all remembered (tombstones past the retention are gone), or `since` is
     *  later than anything the user has: the client must sync from the start. */
    | { outcome: 'forgotten' };


interface ChangeRow {
    version: number;
    kind: 'task' | 'list';
    /** A trashed task's, or a tombstone's. */
    deleted_at: string | null;
    /** The task or list as it is now (a tombstone's holds only its id). */
    item: Task & List;
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

    // Each kind's rows, in version order, at most $3 of each: the page is the first $3 of them all.
    tasks(live: string): string {

        return `(select version, 'task' as kind, ${utcTimestampColumn('deleted_at')}, (select to_json(item) from (select ${taskColumns}) as item) as item
        from tasks where user_id = $1 and version > $2${live} order by version limit $3)`;
    },
    lists: `(select version, 'list' as kind, null::text as deleted_at, (select to_json(item) from (select ${listColumns}) as item) as item
        from lists where user_id = $1 and version > $2 order by version limit $3)`,

    asChange(row: ChangeRow): Change {

        const version = Number(row.version);
        if (row.deleted_at !== null) {
            return { type: row.kind, op: 'delete', version, id: row.item.id, deleted_at: apiTimestamp(row.deleted_at)! };
        }

        if (row.kind === 'list') {
            const { id, name, position, created_at, updated_at } = row.item;
            return { type: 'list', op: 'upsert', version, list: { id, name, position, created_at: apiTimestamp(created_at)!, updated_at: apiTimestamp(updated_at)! } };
        }

        return { type: 'task', op: 'upsert', version, task: asTask(row.item as Task) };
    }
};


export const changeStatements = {
    // $1 user, $2 the version after which, $3 the most rows. Tasks in the trash are deletes; a tombstone whose id is
    // a task or list again (a seed file's fixed id, inserted again) is left out: the row says what it is now.
    after: statement('changes.after', internals.select(`
        select * from (
            ${internals.tasks('')}
            union all
            ${internals.lists}
            union all
            (select version, kind, ${utcTimestampColumn('deleted_at')}, json_build_object('id', id) as item from task_tombstones as gone
                where user_id = $1 and version > $2
                    and not exists (select 1 from tasks where tasks.user_id = $1 and tasks.id = gone.id)
                    and not exists (select 1 from lists where lists.user_id = $1 and lists.id = gone.id)
                order by version limit $3)
        ) as every_kind
        order by version limit $3`)),
    // From the start: the live tasks and the lists only (whatever was deleted before, the client never had).
    start: statement('changes.start', internals.select(`
        select * from (
            ${internals.tasks(' and deleted_at is null')}
            union all
            ${internals.lists}
        ) as every_kind
        order by version limit $3`))
};


/**
 * The user's changes after version `since` (null: from the start, every live task as an upsert), at most `limit`
 * of them, each task once in its latest state. The stream calls it after a notification of the user's new version,
 * as the feed does on each request.
 */
export async function readChanges({ query }: Pick<Database, 'query'>, userId: string, since: number | null, limit: number): Promise<ChangeRead> {

    const feedStatement = since === null ? changeStatements.start : changeStatements.after;
    const { rows: [row] } = await query<{ version: string; forgotten: string; changes: ChangeRow[] }>(feedStatement, [userId, since ?? 0, limit + 1]);
    const head = Number(row.version);
    if (since !== null && (since < Number(row.forgotten) || since > head)) {
        return { outcome: 'forgotten' };
    }

    const more = row.changes.length > limit;
    const changes = row.changes.slice(0, limit).map(internals.asChange);
    const version = more ? changes[changes.length - 1].version : Math.max(head, since ?? 0);
    return { outcome: 'changes', changes, version, more };
}
