import { announcedVersions } from '../change-announcer';
import type { Statement } from '../query';
import { statement } from '../query';
import { utcTimestampColumn } from '../time';
import { taskColumns } from './rows';
import type { TaskFields } from '../../common/tasks';


// Every statement on tasks but the list's (list-query.ts) and the feed's (changes.ts). Each is scoped by its user:
// $1 is always the user's id, and in statements on one task $2 is its id. Timestamps leave the database as text in
// UTC (rows.ts). The live tasks are those with no deleted_at; the others are in the trash.
//
// Every write takes its version(s) with bumpedVersion before it touches a task (see the migration 20261207100000),
// and stamps the rows it writes with them: that is what the change feed reads.


/** A write as is, and with the If-Match precondition. */
export interface WriteStatements {
    plain: Statement;
    /** Answers the task written (task), or whether it exists (present): the statement's snapshot says which. */
    matching: Statement;
}


/** The columns a client can write, in the order an update's statement sets them. */
export const editableColumns = ['title', 'description', 'completed', 'priority', 'due_date'] as const;
export type EditableColumn = (typeof editableColumns)[number];


/** A task's fields as the create and replace statements take them, in the order of editableColumns. */
export function taskValues(fields: Pick<TaskFields, EditableColumn>): unknown[] {

    return editableColumns.map((column) => fields[column]);
}


/**
 * The CTE `bumped (version)`: the user's ($1) next `count` versions, the last one answered. Evaluated when first
 * read, before the task rows the statement then locks and writes: a user's writes always lock in that order. Every
 * change to a user's tasks goes through it (or through the trigger that calls the same function), so the function
 * tasks_bump_version is the one place that sees every change as it is made. The service calls it through
 * tasks_take_versions, and so announces the statement's new version itself once it has committed
 * (change-announcer.ts) instead of having it notified from inside the write.
 */
export function bumpedVersion(count = '1'): string {

    return `bumped as materialized (select ${announcedVersions}($1, ${count}) as version)`;
}


const internals = {
    updates: new Map<number, WriteStatements>(),

    returning: `returning ${taskColumns}`,

    // The tombstones of the rows of the CTE `purged`: the statement's row count is how many. The idempotency keys
    // that created them go with them: a key answers with its task while the task can still be restored, and no longer.
    entomb: `,
        unkeyed as (
            delete from idempotency_keys where (user_id, task_id) in (select user_id, id from purged)
        )
        insert into task_tombstones (user_id, id, version, deleted_at)
        select user_id, id, version, deleted_at from purged
        on conflict (user_id, id) do update set version = excluded.version, deleted_at = excluded.deleted_at`,

    // Strictly later than the previous value even when two changes land within the same microsecond.
    touched: 'updated_at = greatest(clock_timestamp(), updated_at + interval \'1 microsecond\')',

    /** The client's accepted versions arrive as one comma-separated text: one statement for any number of them. */
    versionMatch(placeholder: string): string {

        return `updated_at = any(string_to_array(${placeholder}, ',')::timestamptz[])`;
    },

    /** Room for one more task: counting stops at the limit, so the check reads at most that many index entries. */
    room(limit: string): string {

        return `(select count(*) from (select 1 from tasks where user_id = $1 and deleted_at is null limit ${limit}) as held) < ${limit}`;
    },

    /**
     * An update of one live task setting `set` (whose values are $3 on), and its conditional form: the update runs
     * only on a matching version (the last placeholder), and the statement's snapshot, taken before it, says whether
     * the task existed, so no race fits between the check and the write.
     */
    writes(name: string, set: string, values: number): WriteStatements {

        const update = `update tasks set ${set}, ${internals.touched}, version = bumped.version from bumped where user_id = $1 and id = $2 and deleted_at is null`;
        return {
            plain: statement(name, `with ${bumpedVersion()} ${update} ${internals.returning}`),
            matching: statement(`${name}-matching`, `
                with ${bumpedVersion()}, changed as (${update} and ${internals.versionMatch(`$${3 + values}`)} ${internals.returning})
                select (select to_json(changed) from changed) as task,
                    exists (select 1 from tasks where user_id = $1 and id = $2 and deleted_at is null) as present`)
        };
    },

    /** Trashed tasks within the retention ($ placeholder: days) are in the trash; older ones wait to be removed. */
    inTrash(days: string): string {

        return `deleted_at > now() - ${days}::int * interval '1 day'`;
    }
};


/** The update that sets these columns, in editableColumns' order: at most 31 sets, made once each. */
export function updateStatements(columns: readonly EditableColumn[]): WriteStatements {

    // The set as a bit mask keeps the name short (PostgreSQL cuts names at 63 bytes).
    const mask = columns.reduce((bits, column) => bits | (1 << editableColumns.indexOf(column)), 0);
    let statements = internals.updates.get(mask);
    if (!statements) {
        const set = columns.map((column, i) => `${column} = $${3 + i}`).join(', ');
        statements = internals.writes(`tasks.update.${mask}`, set, columns.length);
        internals.updates.set(mask, statements);
    }

    return statements;
}


export const taskStatements = {
    // $1 user, $2 id.
    get: statement('tasks.get', `select ${taskColumns} from tasks where user_id = $1 and id = $2 and deleted_at is null`),
    // $3 the versions accepted.
    getMatching: statement('tasks.get-matching', `select ${taskColumns}, ${internals.versionMatch('$3')} as matched from tasks where user_id = $1 and id = $2 and deleted_at is null`),

    // $1 user, $2-$6 title, description, completed, priority, due_date, $7 the most tasks a user holds, $8-$10 list,
    // parent and position (tree.ts finds them).
    create: statement('tasks.create', `
        with ${bumpedVersion()}
        insert into tasks (user_id, title, description, completed, priority, due_date, list_id, parent_id, position, version)
        select $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::timestamptz, $8::uuid, $9::uuid, $10::text, bumped.version from bumped
        where ${internals.room('$7')}
        ${internals.returning}`),

    // The first request with a key stores its task as the answer in the same statement. A retry sees the key and
    // creates nothing; one racing the first waits on the key's unique index and fails there, rolling its own task
    // back (the store then reads the key). A user keeps at most the last $11 keys: recording one forgets the oldest
    // past that (the statement's snapshot holds the others, so it is given one fewer than the limit). Expired keys
    // are removed a few at a time (other users' too), so the table cleans itself as it is used.
    // $1 user, $2-$6 the task's fields, $7 the most tasks, $8 key, $9 fingerprint, $10 seconds kept, $11 keys kept,
    // $12-$14 list, parent and position.
    createOnce: statement('tasks.create-once', `
        with existing as (
            select fingerprint, response from idempotency_keys
            where user_id = $1 and key = $8 and expires_at > now()
        ),
        inserted as (
            insert into tasks (user_id, title, description, completed, priority, due_date, list_id, parent_id, position)
            select $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::timestamptz, $12::uuid, $13::uuid, $14::text
            where not exists (select 1 from existing) and ${internals.room('$7')}
            ${internals.returning}
        ),
        recorded as (
            insert into idempotency_keys (user_id, key, fingerprint, task_id, response, expires_at)
            select $1, $8, $9, inserted.id, to_json(inserted), now() + $10::int * interval '1 second' from inserted
            returning response
        ),
        purged as (
            delete from idempotency_keys
            where (user_id, key) in (
                select user_id, key from idempotency_keys
                where expires_at <= now() and not (user_id = $1 and key = $8)
                order by expires_at
                limit 16
                for update skip locked)
        ),
        forgotten as (
            delete from idempotency_keys
            where (user_id, key) in (
                select user_id, key from idempotency_keys
                where user_id = $1 and exists (select 1 from recorded)
                order by expires_at desc, key desc
                offset $11
                for update skip locked)
        )
        select (select response from recorded) as created,
            (select response from existing) as stored,
            (select fingerprint from existing) as fingerprint`),
    // $1 user, $2 key.
    storedKey: statement('tasks.stored-key', 'select fingerprint, response, expires_at > now() as live from idempotency_keys where user_id = $1 and key = $2'),
    expiredKey: statement('tasks.expired-key', 'delete from idempotency_keys where user_id = $1 and key = $2 and expires_at <= now()'),

    replace: internals.writes('tasks.replace', editableColumns.map((column, i) => `${column} = $${3 + i}`).join(', '), editableColumns.length),
    toggle: internals.writes('tasks.toggle', 'completed = not completed', 0),
    complete: internals.writes('tasks.complete', 'completed = $3', 1),

    // The trash: $1 user, then the retention in days; most recently deleted first (the latest version first: a
    // trashed task is not written again). $3 the most rows, after $4 (a version) on the later pages.
    trash: statement('tasks.trash', `
        select ${taskColumns}, ${utcTimestampColumn('deleted_at')}, version from tasks
        where user_id = $1 and deleted_at is not null and ${internals.inTrash('$2')}
        order by version desc limit $3`),
    trashAfter: statement('tasks.trash-after', `
        select ${taskColumns}, ${utcTimestampColumn('deleted_at')}, version from tasks
        where user_id = $1 and deleted_at is not null and ${internals.inTrash('$2')} and version < $4
        order by version desc limit $3`),
    // Removed for good with its subtree (every task under a trashed one is trashed), each leaving a tombstone with
    // its delete's version: the feed still tells clients that synced before the delete. Nothing a client syncs
    // changes, so no version is taken. A task restored meanwhile is left: the delete checks its row as it is now.
    // $2 id, $3 retention.
    purge: statement('tasks.purge', `
        with recursive down as (
            select id from tasks where user_id = $1 and id = $2 and deleted_at is not null and ${internals.inTrash('$3')}
            union all
            select tasks.id from tasks join down on tasks.parent_id = down.id where tasks.user_id = $1 and tasks.deleted_at is not null
        ),
        purged as (
            delete from tasks where user_id = $1 and id in (select id from down) and deleted_at is not null
            returning user_id, id, version, deleted_at)${internals.entomb}`),
    // $2 retention.
    emptyTrash: statement('tasks.empty-trash', `
        with purged as (
            delete from tasks where user_id = $1 and deleted_at is not null and ${internals.inTrash('$2')}
            returning user_id, id, version, deleted_at)${internals.entomb}`),

    // One pass over the user's rows, so the four counts describe the same moment.
    stats: statement('tasks.stats', `
        select count(*)::int as total,
            count(*) filter (where not completed)::int as pending,
            count(*) filter (where completed)::int as completed,
            count(*) filter (where not completed and due_date < now())::int as overdue
        from tasks where user_id = $1 and deleted_at is null`)
};


/**
 * Statements that work across users, for the retention and todo-admin. $1 is the retention in days, or the age in
 * seconds of what todo-admin purges.
 */
export const trashStatements = {
    // What is past the retention is removed, tombstones too, for the owners of the oldest such rows ($2 of them at
    // most) whose writes are not in flight (their version rows are locked first, as writes lock them, and skipped
    // when a write holds one). Each owner's `forgotten` rises to the last version removed: the feed cannot serve
    // cursors below it any more.
    expire: statement('trash.expire', `
        with expired as (
            (select user_id from tasks where deleted_at < now() - $1::int * interval '1 day' order by deleted_at limit $2)
            union
            (select user_id from task_tombstones where deleted_at < now() - $1::int * interval '1 day' order by deleted_at limit $2)
        ),
        owners as (
            select user_id from user_versions where user_id in (select user_id from expired)
            for update skip locked
        ),
        trashed as (
            delete from tasks using owners
            where tasks.user_id = owners.user_id and tasks.deleted_at < now() - $1::int * interval '1 day'
            returning tasks.user_id, tasks.id, tasks.version
        ),
        unkeyed as (
            delete from idempotency_keys where (user_id, task_id) in (select user_id, id from trashed)
        ),
        tombstones as (
            delete from task_tombstones using owners
            where task_tombstones.user_id = owners.user_id and task_tombstones.deleted_at < now() - $1::int * interval '1 day'
            returning task_tombstones.user_id, task_tombstones.version
        ),
        removed as (
            select user_id, max(version) as version from (select user_id, version from trashed union all select user_id, version from tombstones) as gone
            group by user_id
        ),
        raised as (
            update user_versions set forgotten = greatest(user_versions.forgotten, removed.version) from removed
            where user_versions.user_id = removed.user_id
            returning 1
        )
        select (select count(*) from trashed)::int as tasks, (select count(*) from tombstones)::int as tombstones,
            (select count(*) from owners)::int as owners`),
    // todo-admin's purge: every trashed task deleted at least $1 seconds ago, $2 at a time, to tombstones.
    purgeOlder: statement('trash.purge-older', `
        with purged as (
            delete from tasks where (user_id, id) in (
                select user_id, id from tasks where deleted_at <= now() - $1::float8 * interval '1 second'
                order by deleted_at limit $2
                for update skip locked)
            returning user_id, id, version, deleted_at)${internals.entomb}`)
};
