import Crypto from 'node:crypto';

import type { Knex } from 'knex';

import type { TaskLimits } from '../config';
import type { components, operations } from '../generated/openapi';
import type { Database } from './database';
import { apiTimestamp, statementRunner, utcTimestampColumn } from './database';


export type Task = components['schemas']['Task'];
export type TaskFields = components['schemas']['TaskCreate'];
export type TaskChanges = components['schemas']['TaskPatch'];
export type TaskStats = components['schemas']['TaskStats'];
export type Priority = components['schemas']['Priority'];

type ListParameters = NonNullable<operations['listTasks']['parameters']['query']>;
export type TaskSort = NonNullable<ListParameters['sort']>;
export type SortOrder = NonNullable<ListParameters['order']>;


/**
 * Where a page starts: just after the task with this sort key and id, in the list's order. The key is the
 * task's created_at, updated_at or due_date (null for none) as the API writes them, its priority's rank, or its
 * title in lower case as the database lowers it.
 */
export interface TaskPosition {
    key: string | number | null;
    id: string;
}


export interface TaskListOptions {
    /** created_at when not given. */
    sort?: TaskSort;
    /** desc when not given. */
    order?: SortOrder;
    completed?: boolean;
    priorities?: readonly Priority[];
    /** RFC 3339, UTC: only tasks due strictly before / after this instant. */
    dueBefore?: string;
    dueAfter?: string;
    /** Only pending tasks whose due date has passed. */
    overdue?: boolean;
    /** Only tasks whose title or description holds this text, ignoring case. */
    search?: string;
    limit: number;
    after?: TaskPosition;
}


export interface TaskPage {
    tasks: Task[];
    /** Position of the page's last task when more tasks follow it, else null. */
    next: TaskPosition | null;
}


/**
 * A write with a precondition: the updated_at values (as the API writes them) of the versions the client will
 * accept. The task is written only while it is one of them; `modified` says it exists and is not.
 */
export type Versions = readonly string[];
export type Conditional<T> = T | 'modified';


/** What a create with an Idempotency-Key came to. */
export type KeyedCreate =
    | { outcome: 'created' | 'replayed'; task: Task }
    | { outcome: 'limit-reached' }
    /** The key was used before with other task fields. */
    | { outcome: 'key-reused' }
    /** Another request with the key kept it from being settled (it failed and retried, several times over). */
    | { outcome: 'key-unsettled' };


interface SortSpec {
    /** The expression ordered by, for each order: the same text as its index (see the migrations). */
    expression: Record<SortOrder, string>;
    /** The cursor's key, bound in the expression's type. */
    bound: Record<SortOrder, string>;
    /** The key as the database computes it, when it cannot be read off the task. */
    selected?: string;
    /** The key of a task, for the cursor. */
    keyOf(row: Task & { sort_key?: string }): string | number | null;
}


interface WriteStatements {
    plain: string;
    /** With the If-Match precondition: answers the task written, or whether it exists. */
    matching: string;
}


/** A task row of a search statement, with the walk's columns. */
type SearchRow = Task & { sort_key?: string; hit?: boolean; walked?: number; position?: unknown };


type RowReader = (statement: string, bindings: readonly Knex.RawBinding[]) => Promise<any[]>;


interface SearchStatement {
    sql: string;
    /** The bindings for at most `slice` rows read (the walk), and `wanted` rows answered. */
    bind(userId: string, options: TaskListOptions, slice: number, wanted: number): Knex.RawBinding[];
}


interface SearchStatements {
    walk: SearchStatement;
    /** The walk on after a position. */
    walkOn: SearchStatement;
    /** After a position. */
    matches: SearchStatement;
}


interface ListStatement {
    sql: string;
    binders: ((userId: string, options: TaskListOptions) => Knex.RawBinding[])[];
    /** The database's sort key comes back as a column the API does not show. */
    strip: boolean;
}


const internals = {
    uuidRx: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,

    // Timestamps leave the database as text in UTC, put in the API's form by asTask (no Date round trip per row).
    columns: [
        'id', 'user_id', 'title', 'description', 'completed', 'priority',
        utcTimestampColumn('due_date'), utcTimestampColumn('created_at'), utcTimestampColumn('updated_at')
    ].join(', '),

    // Strictly later than the previous value even when two changes land within the same microsecond.
    touched: 'updated_at = greatest(clock_timestamp(), updated_at + interval \'1 microsecond\')',

    // The client's accepted versions arrive as one comma-separated text: one statement shape for any number of them.
    versionMatch: 'updated_at = any(string_to_array(?, \',\')::timestamptz[])',

    editable: ['title', 'description', 'completed', 'priority', 'due_date'] as const,

    priorityRank: { low: 1, medium: 2, high: 3 } as Record<string, number>,

    // Expired keys each keyed create removes (other users' included), so the table cleans itself as it is used.
    purgeBatch: 16,
    // Attempts at a keyed create whose key another request holds or held (each waits for that request first).
    keyedAttempts: 3,

    // Qualified: in ORDER BY a bare created_at would name the output column, the formatted text, which no index holds.
    sorts: {
        created_at: {
            expression: { asc: 'tasks.created_at', desc: 'tasks.created_at' },
            bound: { asc: '?::timestamptz', desc: '?::timestamptz' },
            keyOf: (task) => task.created_at
        },
        updated_at: {
            expression: { asc: 'tasks.updated_at', desc: 'tasks.updated_at' },
            bound: { asc: '?::timestamptz', desc: '?::timestamptz' },
            keyOf: (task) => task.updated_at
        },
        due_date: {
            // Undated tasks last in either order.
            expression: { asc: 'coalesce(due_date, \'infinity\'::timestamptz)', desc: 'coalesce(due_date, \'-infinity\'::timestamptz)' },
            bound: { asc: 'coalesce(?::timestamptz, \'infinity\'::timestamptz)', desc: 'coalesce(?::timestamptz, \'-infinity\'::timestamptz)' },
            keyOf: (task) => task.due_date
        },
        priority: {
            expression: {
                asc: '(case priority when \'low\' then 1 when \'medium\' then 2 when \'high\' then 3 end)',
                desc: '(case priority when \'low\' then 1 when \'medium\' then 2 when \'high\' then 3 end)'
            },
            bound: { asc: '?::int', desc: '?::int' },
            keyOf: (task) => priorityRank(task.priority)
        },
        title: {
            expression: { asc: 'lower(title)', desc: 'lower(title)' },
            bound: { asc: '?::text', desc: '?::text' },
            // Lower case as the database has it: JavaScript's toLowerCase differs for some characters.
            selected: 'lower(title) as sort_key',
            keyOf: (task) => task.sort_key!
        }
    } as Record<TaskSort, SortSpec>,

    /** Which statement a list request needs: the sort, and which filters are present (their values are bound). */
    listShape(options: TaskListOptions): string {

        return [
            options.sort ?? 'created_at', options.order ?? 'desc',
            options.completed !== undefined, Boolean(options.priorities?.length), options.dueBefore !== undefined,
            options.dueAfter !== undefined, Boolean(options.overdue), Boolean(options.search), options.after !== undefined
        ].map((part) => (part === true ? 1 : part === false ? 0 : part)).join('.');
    },

    /** The task fields a key is remembered with: the same fields after validation are the same create. */
    fingerprint(fields: TaskFields): string {

        const canonical = JSON.stringify([fields.title, fields.description, fields.completed, fields.priority, fields.due_date]);
        return Crypto.createHash('sha256').update(canonical).digest('base64url');
    },

    // A search reads at most this many of the user's rows in order per statement: the first, the second, then each
    // next one (a statement's own cost is then small beside its rows'; 1 000 rows take about 75 ms on PGlite).
    searchSlices: [50, 200, 1000],
    // Between a search's statements, the event loop's turn: on PGlite in this process an answer comes back without
    // one, so the statements of a few searches would follow one another with no timer or I/O run until they end.
    nextTurn: () => new Promise<void>((resolve) => setImmediate(resolve)),
    // pg_trgm finds a LIKE pattern by its words' trigrams: it needs three letters or digits in a row.
    trigramRx: /[\p{L}\p{N}]{3}/u,

    likePattern(text: string): string {

        return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
    },

    isKeyConflict(err: unknown): boolean {

        const { code, constraint } = (err ?? {}) as { code?: string; constraint?: string };
        return code === '23505' && constraint === 'idempotency_keys_pkey';
    }
};



/** A task as the database returned it (or as to_json wrote its row), with its timestamps in the API's form. */
function asTask<T extends Task | null | undefined>(row: T): T {

    if (row) {
        row.due_date = apiTimestamp(row.due_date);
        row.created_at = apiTimestamp(row.created_at)!;
        row.updated_at = apiTimestamp(row.updated_at)!;
    }

    return row;
}


export function isTaskId(value: string): boolean {

    return internals.uuidRx.test(value);
}


export function priorityRank(priority: Priority): number {

    return internals.priorityRank[priority];
}


/**
 * The list statement for one shape. When the list is sorted by due date, the due-date filters are written on the
 * sort expression, so they bound the index range instead of filtering the rows read.
 */
export function buildListStatement(options: TaskListOptions): ListStatement {

    const { spec, key, order, where, binders } = listConditions(options);

    // One row more than the page tells whether a next page exists without a count query.
    const sql = `
        select ${internals.columns}${spec.selected ? `, ${spec.selected}` : ''} from tasks
        where ${where.join(' and ')}
        order by ${key} ${order}, id ${order}
        limit ?`;

    binders.push((_, o) => [o.limit + 1]);
    return { sql, binders, strip: Boolean(spec.selected) };
}


/** The conditions of a list of one shape, in the order of their placeholders, and what it is ordered by. */
function listConditions(options: TaskListOptions) {

    const sort = options.sort ?? 'created_at';
    const order = options.order ?? 'desc';
    const spec = internals.sorts[sort];
    const key = spec.expression[order];
    const where = ['user_id = ?'];
    const binders: ListStatement['binders'] = [(userId) => [userId]];

    if (options.completed !== undefined) {
        where.push('completed = ?');
        binders.push((_, o) => [o.completed!]);
    }

    if (options.priorities?.length) {
        where.push('priority = any(string_to_array(?, \',\'))');
        binders.push((_, o) => [o.priorities!.join(',')]);

        // Sorted by priority, the ranks asked for also bound the index range: one priority, or adjacent ones, read
        // only their own rows instead of walking past the others.
        if (sort === 'priority') {
            where.push(`${key} between ?::int and ?::int`);
            binders.push((_, o) => {

                const ranks = o.priorities!.map(priorityRank);
                return [Math.min(...ranks), Math.max(...ranks)];
            });
        }
    }

    // Written on the expression, "undated" is an infinity at one end: these bounds keep it out.
    const dated = sort !== 'due_date' ? '' : order === 'asc' ? ` and ${key} < 'infinity'::timestamptz` : ` and ${key} > '-infinity'::timestamptz`;
    const due = sort === 'due_date' ? key : 'due_date';

    if (options.dueBefore !== undefined) {
        where.push(`${due} < ?::timestamptz${order === 'desc' ? dated : ''}`);
        binders.push((_, o) => [o.dueBefore!]);
    }

    if (options.dueAfter !== undefined) {
        where.push(`${due} > ?::timestamptz${order === 'asc' ? dated : ''}`);
        binders.push((_, o) => [o.dueAfter!]);
    }

    if (options.overdue) {
        where.push(`completed = false and ${due} < now()${order === 'desc' ? dated : ''}`);
    }

    if (options.search) {
        where.push('(title ilike ? escape \'\\\' or description ilike ? escape \'\\\')');
        binders.push((_, o) => {

            const pattern = internals.likePattern(o.search!);
            return [pattern, pattern];
        });
    }

    if (options.after) {
        where.push(`(${key}, id) ${order === 'asc' ? '>' : '<'} (${spec.bound[order]}, ?::uuid)`);
        binders.push((_, o) => [o.after!.key, o.after!.id]);
    }

    return { spec, key, order, where, binders };
}


/**
 * The statements a search (q) reads a page with, for one list shape:
 *
 * - `walk` reads the user's rows in the list's order from the sort's index, as a plain list does, at most `slice` of
 *   them, and tests the text on each: it answers the rows that hold it, until `wanted`, and the slice's last row
 *   (`walked` = slice) to continue after; `walkOn` does the same after a position.
 * - `matches` reads the rows whose title or description holds the text from the trigram index, then sorts them: the
 *   subquery's OFFSET 0 keeps the planner from walking the sort's index instead (it may think a rare text common).
 *
 * Testing a long description costs tens of microseconds: the walk costs that per row read, the index per row that
 * matches. searchTasks uses each where it reads few rows.
 */
export function buildSearchStatements(options: TaskListOptions): SearchStatements {

    const { spec, key, order } = listConditions(options);
    const selected = spec.selected ? `, ${spec.selected}` : '';
    const holds = '(title ilike ? escape \'\\\' or description ilike ? escape \'\\\')';
    // The text as a value the planner does not see (an InitPlan's): it judges how common a text is by every user's
    // tasks, and a text common among them but rare in this user's would have it read all of this user's rows instead.
    const hidden = '(title ilike (select ?::text) escape \'\\\' or description ilike (select ?::text) escape \'\\\')';
    const pattern = (o: TaskListOptions) => {

        const like = internals.likePattern(o.search!);
        return [like, like];
    };

    const walk = (shape: TaskListOptions): SearchStatement => {

        const listed = listConditions({ ...shape, search: undefined });
        return {
            sql: `
                select * from (
                    select ${internals.columns}${selected}, ${key} as position, ${holds} is true as hit,
                        (row_number() over (order by ${key} ${order}, id ${order}))::int as walked
                    from tasks
                    where ${listed.where.join(' and ')}
                    order by ${key} ${order}, id ${order}
                    limit ?
                ) as slice
                where hit or walked = ?
                order by position ${order}, id ${order}
                limit ?`,
            bind: (userId, o, slice, wanted) => [...pattern(o), ...listed.binders.flatMap((bind) => bind(userId, o)), slice, slice, wanted]
        };
    };

    // Every statement but the first reads on after a row the walk read: its shape has a cursor (the value is bound).
    const continued = { ...options, after: { key: null, id: '' } };
    // Where the index reads from, the cursor is a filter only (IS TRUE: no index takes it, and the keys are never
    // null): a sort's index range after it would be the planner's choice wherever it misjudges the range as short.
    const matched = listConditions({ ...options, search: undefined, after: undefined });
    const beyond = `((${key}, id) ${order === 'asc' ? '>' : '<'} (${spec.bound[order]}, ?::uuid)) is true`;
    return {
        walk: walk(options),
        walkOn: walk(continued),
        matches: {
            sql: `
                select * from (
                    select ${internals.columns}${selected}, ${key} as position from tasks
                    where ${matched.where.join(' and ')} and ${beyond} and ${hidden}
                    offset 0
                ) as matched
                order by position ${order}, id ${order}
                limit ?`,
            bind: (userId, o, _, wanted) => [...matched.binders.flatMap((bind) => bind(userId, o)), o.after!.key, o.after!.id, ...pattern(o), wanted]
        }
    };
}


/**
 * The first `limit` + 1 tasks of a search, the same as the one list statement with the text's condition would
 * answer, read so that neither a common text nor a rare one costs much more than a list: the user's rows in the
 * list's order, a slice at a time, until the page is full; when the text proves rare there (the walk would read more
 * rows than the index would test) and the trigram index can find it, the rest from the index. A text the index cannot
 * find (no three letters or digits in a row) is walked for to the end in slices, each statement bounded, so that other
 * requests get their turn on a database that runs one statement at a time (PGlite).
 */
async function searchTasks(read: RowReader, statements: SearchStatements, userId: string, options: TaskListOptions, maxTasks: number): Promise<SearchRow[]> {

    const wanted = options.limit + 1;
    const spec = internals.sorts[options.sort ?? 'created_at'];
    const indexed = internals.trigramRx.test(options.search!);
    const found: SearchRow[] = [];
    const seen = new Set<string>();
    const take = (rows: SearchRow[]) => {

        // Each statement has a snapshot of its own: a task changed between two of them may be read by both.
        for (const { hit, walked: _, position: __, ...row } of rows) {
            if ((hit ?? true) && !seen.has(row.id) && found.length < wanted) {
                seen.add(row.id);
                found.push(row);
            }
        }
    };

    let after = options.after;
    let walked = 0;
    for (let slice = 0; ; ++slice) {
        const size = internals.searchSlices[Math.min(slice, internals.searchSlices.length - 1)];
        const walk = slice === 0 ? statements.walk : statements.walkOn;
        if (slice > 0) {
            await internals.nextTurn();
        }

        const rows: SearchRow[] = await read(walk.sql, walk.bind(userId, { ...options, after }, size, wanted - found.length));
        take(rows);

        const last = rows[rows.length - 1];
        if (found.length >= wanted || last?.walked !== size) {
            return found;
        }

        // At the share of matches walked so far (d), the walk still reads about missing / d rows, and the index
        // tests about d x the user's rows (at most maxTasks): the cheaper one goes on.
        walked += size;
        after = { key: spec.keyOf(asTask({ ...last })), id: last.id };
        const share = found.length / walked;
        if (indexed && share * maxTasks < (wanted - found.length) / share) {
            await internals.nextTurn();
            take(await read(statements.matches.sql, statements.matches.bind(userId, { ...options, after }, 0, wanted - found.length)));
            return found;
        }
    }
}


/**
 * Every statement on tasks. Each method takes the owner's user id first and scopes its own query by it:
 * another user's task is indistinguishable from a missing one. Statements are built once (the shaped ones once
 * per shape); a request only binds values.
 */
export function taskStore(db: Database, limits: TaskLimits) {

    const { columns, touched, versionMatch } = internals;
    const returning = `returning ${columns}`;

    // Counting stops at the limit: the check reads at most that many of the user's index entries.
    const room = '(select count(*) from (select 1 from tasks where user_id = ? limit ?) as held) < ?';
    const roomBindings = (userId: string) => [userId, limits.maxTasksPerUser, limits.maxTasksPerUser];
    const values = 'select ?::text, ?::text, ?::text, ?::boolean, ?::text, ?::timestamptz';
    const valueBindings = (userId: string, fields: TaskFields) => {

        return [userId, fields.title, fields.description, fields.completed, fields.priority, fields.due_date];
    };

    // Each write as is, and made conditional: then the update runs only on a matching version, and the
    // statement's snapshot (taken before it) says whether the task existed, so no race fits between check and write.
    const writes = (update: string): WriteStatements => ({
        plain: `${update} ${returning}`,
        matching: `
            with changed as (${update} and ${versionMatch} ${returning})
            select (select to_json(changed) from changed) as task,
                exists (select 1 from tasks where user_id = ? and id = ?) as present`
    });

    const sql = {
        get: `select ${columns} from tasks where user_id = ? and id = ?`,
        getMatching: `select ${columns}, ${versionMatch} as matched from tasks where user_id = ? and id = ?`,

        create: `insert into tasks (user_id, title, description, completed, priority, due_date) ${values} where ${room} ${returning}`,

        // The first request with a key stores its task as the answer in the same statement. A retry sees the key
        // and creates nothing; one racing the first waits on the key's unique index and fails there, rolling its
        // own task back (see createTaskOnceForUser). A user keeps at most maxIdempotencyKeysPerUser keys: recording
        // one forgets the oldest past that (the statement's snapshot holds the others, so it keeps one fewer).
        createOnce: `
            with existing as (
                select fingerprint, response from idempotency_keys
                where user_id = ? and key = ? and expires_at > now()
            ),
            inserted as (
                insert into tasks (user_id, title, description, completed, priority, due_date)
                ${values} where not exists (select 1 from existing) and ${room}
                ${returning}
            ),
            recorded as (
                insert into idempotency_keys (user_id, key, fingerprint, task_id, response, expires_at)
                select ?, ?, ?, inserted.id, to_json(inserted), now() + ?::int * interval '1 second' from inserted
                returning response
            ),
            purged as (
                delete from idempotency_keys
                where (user_id, key) in (
                    select user_id, key from idempotency_keys
                    where expires_at <= now() and not (user_id = ? and key = ?)
                    order by expires_at
                    limit ${internals.purgeBatch}
                    for update skip locked)
            ),
            forgotten as (
                delete from idempotency_keys
                where (user_id, key) in (
                    select user_id, key from idempotency_keys
                    where user_id = ? and exists (select 1 from recorded)
                    order by expires_at desc, key desc
                    offset ?
                    for update skip locked)
            )
            select (select response from recorded) as created,
                (select response from existing) as stored,
                (select fingerprint from existing) as fingerprint`,
        storedKey: 'select fingerprint, response, expires_at > now() as live from idempotency_keys where user_id = ? and key = ?',
        expiredKey: 'delete from idempotency_keys where user_id = ? and key = ? and expires_at <= now()',

        replace: writes(`update tasks set title = ?, description = ?, completed = ?, priority = ?, due_date = ?, ${touched} where user_id = ? and id = ?`),
        toggle: writes(`update tasks set completed = not completed, ${touched} where user_id = ? and id = ?`),
        complete: writes(`update tasks set completed = ?, ${touched} where user_id = ? and id = ?`),

        delete: 'delete from tasks where user_id = ? and id = ?',
        deleteMatching: `
            with removed as (delete from tasks where user_id = ? and id = ? and ${versionMatch} returning id)
            select exists (select 1 from removed) as deleted,
                exists (select 1 from tasks where user_id = ? and id = ?) as present`,
        clearCompleted: 'delete from tasks where user_id = ? and completed',

        // One pass over the user's rows, so the four counts describe the same moment.
        stats: `
            select count(*)::int as total,
                count(*) filter (where not completed)::int as pending,
                count(*) filter (where completed)::int as completed,
                count(*) filter (where not completed and due_date < now())::int as overdue
            from tasks where user_id = ?`
    };

    // Filled as shapes are first used: at most 31 column sets, and 1 280 list shapes (sort, order, filters present).
    const updates = new Map<string, WriteStatements>();
    const lists = new Map<string, ListStatement>();
    const searches = new Map<string, SearchStatements>();
    const searchStatements = (shape: string, options: TaskListOptions): SearchStatements => {

        let statements = searches.get(shape);
        if (!statements) {
            statements = buildSearchStatements(options);
            searches.set(shape, statements);
        }

        return statements;
    };

    const run = statementRunner(db);
    const rows = async (statement: string, bindings: readonly Knex.RawBinding[]): Promise<any[]> => {

        return (await run(statement, bindings)).rows;
    };

    const one = async (statement: string, bindings: readonly Knex.RawBinding[]): Promise<Task | null> => {

        return asTask((await rows(statement, bindings))[0] ?? null);
    };

    /** A write as is, or with its precondition. */
    const write = async (statements: WriteStatements, bindings: Knex.RawBinding[], userId: string, id: string, versions?: Versions): Promise<Conditional<Task | null>> => {

        if (!versions) {
            return one(statements.plain, [...bindings, userId, id]);
        }

        const [row] = await rows(statements.matching, [...bindings, userId, id, versions.join(','), userId, id]);
        return asTask(row.task) ?? (row.present ? 'modified' : null);
    };

    const getTaskForUser = (userId: string, id: string): Promise<Task | null> => {

        if (!isTaskId(id)) {
            return Promise.resolve(null);
        }

        return one(sql.get, [userId, id]);
    };

    const updateStatements = (columnsSent: readonly string[]): WriteStatements => {

        const shape = columnsSent.join(',');
        let statements = updates.get(shape);
        if (!statements) {
            statements = writes(`update tasks set ${columnsSent.map((column) => `${column} = ?`).join(', ')}, ${touched} where user_id = ? and id = ?`);
            updates.set(shape, statements);
        }

        return statements;
    };

    return {
        getTaskForUser,

        async listTasksForUser(userId: string, options: TaskListOptions): Promise<TaskPage> {

            const shape = internals.listShape(options);
            let statement = lists.get(shape);
            if (!statement) {
                statement = buildListStatement(options);
                lists.set(shape, statement);
            }

            const found: (Task & { sort_key?: string })[] = options.search ?
                await searchTasks(rows, searchStatements(shape, options), userId, options, limits.maxTasksPerUser) :
                await rows(statement.sql, statement.binders.flatMap((bind) => bind(userId, options)));
            for (const task of found) {
                asTask(task);
            }

            const more = found.length > options.limit;
            if (more) {
                found.length = options.limit;
            }

            const last = found[found.length - 1];
            const next = more ? { key: internals.sorts[options.sort ?? 'created_at'].keyOf(last), id: last.id } : null;
            const tasks = statement.strip ? found.map(({ sort_key: _, ...task }) => task) : found;
            return { tasks, next };
        },

        /** The task as stored, or null when the user already holds the most tasks allowed. */
        createTaskForUser(userId: string, fields: TaskFields): Promise<Task | null> {

            return one(sql.create, [...valueBindings(userId, fields), ...roomBindings(userId)]);
        },

        /**
         * A create that happens once per key: the first request stores its task as the answer; later ones with
         * the same fields get that answer back, with other fields `key-reused`, and neither creates anything.
         */
        async createTaskOnceForUser(userId: string, key: string, fields: TaskFields): Promise<KeyedCreate> {

            const fingerprint = internals.fingerprint(fields);
            const answer = (stored: { fingerprint: string; response: Task }): KeyedCreate => {

                return stored.fingerprint === fingerprint ? { outcome: 'replayed', task: asTask(stored.response) } : { outcome: 'key-reused' };
            };

            for (let attempt = 0; attempt < internals.keyedAttempts; ++attempt) {
                try {
                    const [row] = await rows(sql.createOnce, [
                        userId, key,
                        ...valueBindings(userId, fields), ...roomBindings(userId),
                        userId, key, fingerprint, limits.idempotencyKeyTtlSec,
                        userId, key,
                        userId, limits.maxIdempotencyKeysPerUser - 1
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
                    await run(sql.expiredKey, [userId, key]);
                }
            }

            return { outcome: 'key-unsettled' };
        },

        replaceTaskForUser(userId: string, id: string, fields: TaskFields, versions?: Versions): Promise<Conditional<Task | null>> {

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            return write(sql.replace, [fields.title, fields.description, fields.completed, fields.priority, fields.due_date], userId, id, versions);
        },

        async updateTaskForUser(userId: string, id: string, changes: TaskChanges, versions?: Versions): Promise<Conditional<Task | null>> {

            if (!isTaskId(id)) {
                return null;
            }

            const columnsSent = internals.editable.filter((column) => changes[column] !== undefined);
            if (columnsSent.length) {
                return write(updateStatements(columnsSent), columnsSent.map((column) => changes[column] as Knex.RawBinding), userId, id, versions);
            }

            // Nothing to change: the task as it is, still refused when it is not the version the client named.
            if (!versions) {
                return getTaskForUser(userId, id);
            }

            const [row] = await rows(sql.getMatching, [versions.join(','), userId, id]);
            if (!row) {
                return null;
            }

            const { matched, ...task } = row;
            return matched ? asTask(task as Task) : 'modified';
        },

        /** Sets completed to the value given, or flips it in one statement when none is given. */
        setTaskCompletionForUser(userId: string, id: string, completed?: boolean, versions?: Versions): Promise<Conditional<Task | null>> {

            if (!isTaskId(id)) {
                return Promise.resolve(null);
            }

            return completed === undefined ?
                write(sql.toggle, [], userId, id, versions) :
                write(sql.complete, [completed], userId, id, versions);
        },

        async deleteTaskForUser(userId: string, id: string, versions?: Versions): Promise<Conditional<boolean>> {

            if (!isTaskId(id)) {
                return false;
            }

            if (!versions) {
                const result = await run(sql.delete, [userId, id]);
                return result.rowCount === 1;
            }

            const [row] = await rows(sql.deleteMatching, [userId, id, versions.join(','), userId, id]);
            return row.deleted || (row.present ? 'modified' : false);
        },

        /** Deletes the user's completed tasks and says how many there were. */
        async clearCompletedTasksForUser(userId: string): Promise<number> {

            const result = await run(sql.clearCompleted, [userId]);
            return result.rowCount;
        },

        async taskStatsForUser(userId: string): Promise<TaskStats> {

            return (await rows(sql.stats, [userId]))[0];
        }
    };
}


export type TaskStore = ReturnType<typeof taskStore>;
