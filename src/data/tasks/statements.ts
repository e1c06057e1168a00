import type { Statement } from '../query';
import { statement } from '../query';
import { taskColumns } from './rows';


// Every statement on tasks but the list's (list-query.ts). Each is scoped by its user: $1 is always the user's id,
// and in statements on one task $2 is its id. Timestamps leave the database as text in UTC (rows.ts).


/** A write as is, and with the If-Match precondition. */
export interface WriteStatements {
    plain: Statement;
    /** Answers the task written (task), or whether it exists (present): the statement's snapshot says which. */
    matching: Statement;
}


/** The columns a client can write, in the order an update's statement sets them. */
export const editableColumns = ['title', 'description', 'completed', 'priority', 'due_date'] as const;
export type EditableColumn = (typeof editableColumns)[number];


const internals = {
    updates: new Map<number, WriteStatements>(),

    returning: `returning ${taskColumns}`,

    // Strictly later than the previous value even when two changes land within the same microsecond.
    touched: 'updated_at = greatest(clock_timestamp(), updated_at + interval \'1 microsecond\')',

    /** The client's accepted versions arrive as one comma-separated text: one statement for any number of them. */
    versionMatch(placeholder: string): string {

        return `updated_at = any(string_to_array(${placeholder}, ',')::timestamptz[])`;
    },

    /** Room for one more task: counting stops at the limit, so the check reads at most that many index entries. */
    room(limit: string): string {

        return `(select count(*) from (select 1 from tasks where user_id = $1 limit ${limit}) as held) < ${limit}`;
    },

    /**
     * An update of one task setting `set` (whose values are $3 on), and its conditional form: the update runs only
     * on a matching version (the last placeholder), and the statement's snapshot, taken before it, says whether the
     * task existed, so no race fits between the check and the write.
     */
    writes(name: string, set: string, values: number): WriteStatements {

        const update = `update tasks set ${set}, ${internals.touched} where user_id = $1 and id = $2`;
        return {
            plain: statement(name, `${update} ${internals.returning}`),
            matching: statement(`${name}-matching`, `
                with changed as (${update} and ${internals.versionMatch(`$${3 + values}`)} ${internals.returning})
                select (select to_json(changed) from changed) as task,
                    exists (select 1 from tasks where user_id = $1 and id = $2) as present`)
        };
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
    get: statement('tasks.get', `select ${taskColumns} from tasks where user_id = $1 and id = $2`),
    // $3 the versions accepted.
    getMatching: statement('tasks.get-matching', `select ${taskColumns}, ${internals.versionMatch('$3')} as matched from tasks where user_id = $1 and id = $2`),

    // $1 user, $2-$6 title, description, completed, priority, due_date, $7 the most tasks a user holds.
    create: statement('tasks.create', `
        insert into tasks (user_id, title, description, completed, priority, due_date)
        select $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::timestamptz
        where ${internals.room('$7')}
        ${internals.returning}`),

    // The first request with a key stores its task as the answer in the same statement. A retry sees the key and
    // creates nothing; one racing the first waits on the key's unique index and fails there, rolling its own task
    // back (the store then reads the key). A user keeps at most the last $11 keys: recording one forgets the oldest
    // past that (the statement's snapshot holds the others, so it is given one fewer than the limit). Expired keys
    // are removed a few at a time (other users' too), so the table cleans itself as it is used.
    // $1 user, $2-$6 the task's fields, $7 the most tasks, $8 key, $9 fingerprint, $10 seconds kept, $11 keys kept.
    createOnce: statement('tasks.create-once', `
        with existing as (
            select fingerprint, response from idempotency_keys
            where user_id = $1 and key = $8 and expires_at > now()
        ),
        inserted as (
            insert into tasks (user_id, title, description, completed, priority, due_date)
            select $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::timestamptz
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

    // $1 user, $2 id; $3 the versions accepted.
    delete: statement('tasks.delete', 'delete from tasks where user_id = $1 and id = $2'),
    deleteMatching: statement('tasks.delete-matching', `
        with removed as (delete from tasks where user_id = $1 and id = $2 and ${internals.versionMatch('$3')} returning id)
        select exists (select 1 from removed) as deleted,
            exists (select 1 from tasks where user_id = $1 and id = $2) as present`),
    clearCompleted: statement('tasks.clear-completed', 'delete from tasks where user_id = $1 and completed'),

    // One pass over the user's rows, so the four counts describe the same moment.
    stats: statement('tasks.stats', `
        select count(*)::int as total,
            count(*) filter (where not completed)::int as pending,
            count(*) filter (where completed)::int as completed,
            count(*) filter (where not completed and due_date < now())::int as overdue
        from tasks where user_id = $1`)
};
