import type { Statement } from '../query';
import { statement } from '../query';
import { noneId, placeExpression, taskColumns } from './rows';
import type { Priority, SortOrder, Task, TaskPosition, TaskSort } from '../../common/tasks';
import { priorityRank } from '../../common/tasks';


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
    /** Only the tasks of this list (null: the inbox). */
    listId?: string | null;
    /** Only the children of this task (null: top-level tasks). */
    parentId?: string | null;
    limit: number;
    after?: TaskPosition;
}


/** The statement for one shape of list, and how a request's user and options become its values. */
export interface ListStatement {
    statement: Statement;
    values(userId: string, options: TaskListOptions): unknown[];
    /** The database's sort key comes back as a column (sort_key) the API does not show. */
    strip: boolean;
}


interface SortSpec {
    /** The expression ordered by: the same text as its index (see the migrations). */
    expression: Record<SortOrder, string>;
    /** The cursor's key, cast to the expression's type. */
    bound: Record<SortOrder, (placeholder: string) => string>;
    /** The key as the database computes it, when it cannot be read off the task. */
    selected?: string;
    /** The key of a task, for the cursor. */
    keyOf(row: Task & { sort_key?: string }): string | number | null;
    /** No two live tasks share the key (a task's place): it orders alone, and its index has no id to tie-break by. */
    unique?: boolean;
}


const internals = {
    // The text of the index on priority (migration 20261201090000): the planner matches expressions by their text.
    priorityRank: '(case priority when \'low\' then 1 when \'medium\' then 2 when \'high\' then 3 end)',

    sorts: null as unknown as Record<TaskSort, SortSpec>,

    /** Which statement a list request needs: the sort, and which filters are present (their values are bound). */
    shape(options: TaskListOptions): string {

        return [
            options.sort ?? 'created_at', options.order ?? 'desc',
            options.completed !== undefined, Boolean(options.priorities?.length), options.dueBefore !== undefined,
            options.dueAfter !== undefined, Boolean(options.overdue), Boolean(options.search), options.after !== undefined,
            options.listId !== undefined, options.parentId !== undefined
        ].map((part) => (part === true ? 1 : part === false ? 0 : part)).join('.');
    },

    // The sorts in the order of their place in a shape's number.
    sortNumbers: { created_at: 0, updated_at: 1, due_date: 2, priority: 3, title: 4, position: 5 } satisfies Record<TaskSort, number>,

    /**
     * The shape as a number, a bit for the order and for each filter: what the built statements are found by on every
     * list request, where the text (the statements' names) would be put together each time.
     */
    shapeNumber(options: TaskListOptions): number {

        return internals.sortNumbers[options.sort ?? 'created_at'] * 1024 +
            (options.order === 'asc' ? 512 : 0) +
            (options.completed !== undefined ? 256 : 0) +
            (options.priorities?.length ? 128 : 0) +
            (options.dueBefore !== undefined ? 64 : 0) +
            (options.dueAfter !== undefined ? 32 : 0) +
            (options.overdue ? 16 : 0) +
            (options.search ? 8 : 0) +
            (options.after !== undefined ? 4 : 0) +
            (options.listId !== undefined ? 2 : 0) +
            (options.parentId !== undefined ? 1 : 0);
    },

    // Filled as shapes are first used: at most 6 144 (sort, order, filters present).
    built: new Map<number, ListStatement>()
};


// Qualified: in ORDER BY a bare created_at would name the output column, the formatted text, which no index holds.
internals.sorts = {
    created_at: {
        expression: { asc: 'tasks.created_at', desc: 'tasks.created_at' },
        bound: { asc: (p) => `${p}::timestamptz`, desc: (p) => `${p}::timestamptz` },
        keyOf: (task) => task.created_at
    },
    updated_at: {
        expression: { asc: 'tasks.updated_at', desc: 'tasks.updated_at' },
        bound: { asc: (p) => `${p}::timestamptz`, desc: (p) => `${p}::timestamptz` },
        keyOf: (task) => task.updated_at
    },
    due_date: {
        // Undated tasks last in either order.
        expression: { asc: 'coalesce(due_date, \'infinity\'::timestamptz)', desc: 'coalesce(due_date, \'-infinity\'::timestamptz)' },
        bound: {
            asc: (p) => `coalesce(${p}::timestamptz, 'infinity'::timestamptz)`,
            desc: (p) => `coalesce(${p}::timestamptz, '-infinity'::timestamptz)`
        },
        keyOf: (task) => task.due_date
    },
    priority: {
        expression: { asc: internals.priorityRank, desc: internals.priorityRank },
        bound: { asc: (p) => `${p}::int`, desc: (p) => `${p}::int` },
        keyOf: (task) => priorityRank(task.priority)
    },
    title: {
        expression: { asc: 'lower(title)', desc: 'lower(title)' },
        bound: { asc: (p) => `${p}::text`, desc: (p) => `${p}::text` },
        // Lower case as the database has it: JavaScript's toLowerCase differs for some characters.
        selected: 'lower(title) as sort_key',
        keyOf: (task) => task.sort_key!
    },
    position: {
        expression: { asc: placeExpression, desc: placeExpression },
        bound: { asc: (p) => `${p}::text collate "C"`, desc: (p) => `${p}::text collate "C"` },
        selected: `${placeExpression} as sort_key`,
        keyOf: (task) => task.sort_key!,
        unique: true
    }
};


/** The cursor of the task a page ends with, in the list's sort. */
export function positionOf(task: Task & { sort_key?: string }, sort: TaskSort = 'created_at'): TaskPosition {

    return { key: internals.sorts[sort].keyOf(task), id: task.id };
}


/** What a placeholder's value is made of: the request's user and options, and the search's slice and page. */
export interface Bound {
    userId: string;
    options: TaskListOptions;
    /** Rows a search's walk reads, and rows it still wants. */
    slice?: number;
    wanted?: number;
}


/**
 * A statement's placeholders, numbered as its text is written: add() gives the next `$n` and keeps how its value is
 * made, values() makes them all, in order, for a request.
 */
export class Placeholders {

    private readonly makers: ((bound: Bound) => unknown)[] = [];

    add(make: (bound: Bound) => unknown): string {

        this.makers.push(make);
        return `$${this.makers.length}`;
    }

    values(bound: Bound): unknown[] {

        return this.makers.map((make) => make(bound));
    }
}


/** A list's conditions for one shape and what it is ordered by, their placeholders added in writing order. */
export function listConditions(options: TaskListOptions, params: Placeholders) {

    const sort = options.sort ?? 'created_at';
    const order = options.order ?? 'desc';
    const spec = internals.sorts[sort];
    const key = spec.expression[order];
    // The live tasks only: the list's indexes hold no others (deleted_at is their predicate).
    const where = [`user_id = ${params.add((b) => b.userId)}`, 'deleted_at is null'];

    if (options.completed !== undefined) {
        where.push(`completed = ${params.add((b) => b.options.completed)}`);
    }

    if (options.priorities?.length) {
        where.push(`priority = any(string_to_array(${params.add((b) => b.options.priorities!.join(','))}, ','))`);

        // Sorted by priority, the ranks asked for also bound the index range: one priority, or adjacent ones, read
        // only their own rows instead of walking past the others.
        if (sort === 'priority') {
            const ranks = (b: Bound) => b.options.priorities!.map(priorityRank);
            where.push(`${key} between ${params.add((b) => Math.min(...ranks(b)))}::int and ${params.add((b) => Math.max(...ranks(b)))}::int`);
        }
    }

    // Written on the expression, "undated" is an infinity at one end: these bounds keep it out.
    const dated = sort !== 'due_date' ? '' : order === 'asc' ? ` and ${key} < 'infinity'::timestamptz` : ` and ${key} > '-infinity'::timestamptz`;
    const due = sort === 'due_date' ? key : 'due_date';

    if (options.dueBefore !== undefined) {
        where.push(`${due} < ${params.add((b) => b.options.dueBefore)}::timestamptz${order === 'desc' ? dated : ''}`);
    }

    if (options.dueAfter !== undefined) {
        where.push(`${due} > ${params.add((b) => b.options.dueAfter)}::timestamptz${order === 'asc' ? dated : ''}`);
    }

    if (options.overdue) {
        where.push(`completed = false and ${due} < now()${order === 'desc' ? dated : ''}`);
    }

    if (options.listId !== undefined) {
        where.push(`coalesce(list_id, '${noneId}'::uuid) = ${params.add((b) => b.options.listId ?? noneId)}::uuid`);
    }

    if (options.parentId !== undefined) {
        where.push(`coalesce(parent_id, '${noneId}'::uuid) = ${params.add((b) => b.options.parentId ?? noneId)}::uuid`);
    }

    // In the user's order, a list (and a parent in it) is one range of places: the index reads only that range.
    if (sort === 'position' && options.listId !== undefined) {
        const prefix = (b: Bound) => `${b.options.listId ?? noneId}/${b.options.parentId === undefined ? '' : `${b.options.parentId ?? noneId}/`}`;
        // '0' follows '/': every text that starts with the prefix is below the prefix with its last '/' made '0'.
        where.push(`${key} >= ${params.add(prefix)}::text collate "C" and ${key} < ${params.add((b) => `${prefix(b).slice(0, -1)}0`)}::text collate "C"`);
    }

    if (options.search) {
        where.push(textHeld(params.add((b) => likePattern(b.options.search!))));
    }

    if (options.after) {
        where.push(afterCondition(spec, key, order, params));
    }

    return { spec, key, order, where };
}


/** The list's ORDER BY: the sort's key, then the id (which breaks ties), or the key alone when it is unique. */
export function orderedBy(spec: SortSpec, key: string, order: SortOrder): string {

    return spec.unique ? `${key} ${order}` : `${key} ${order}, id ${order}`;
}


/** The rows after a cursor's task, in the list's order (its placeholders added). */
export function afterCondition(spec: SortSpec, key: string, order: SortOrder, params: Placeholders): string {

    const beyond = order === 'asc' ? '>' : '<';
    if (spec.unique) {
        return `${key} ${beyond} ${spec.bound[order](params.add((b) => b.options.after!.key))}`;
    }

    return `(${key}, id) ${beyond} (${spec.bound[order](params.add((b) => b.options.after!.key))}, ${params.add((b) => b.options.after!.id)}::uuid)`;
}


/** The text condition of a search: the pattern (a LIKE pattern of likePattern's) in the title or the description. */
export function textHeld(pattern: string): string {

    return `(title ilike ${pattern} escape '\\' or description ilike ${pattern} escape '\\')`;
}


export function likePattern(text: string): string {

    return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}


/** The key of the sort as the list's cursor holds it. */
export function sortSpec(sort: TaskSort = 'created_at') {

    return internals.sorts[sort];
}


/**
 * The list statement for one shape. When the list is sorted by due date, the due-date filters are written on the
 * sort expression, so they bound the index range instead of filtering the rows read.
 */
export function buildListStatement(options: TaskListOptions): ListStatement {

    const params = new Placeholders();
    const { spec, key, order, where } = listConditions(options, params);

    // One row more than the page tells whether a next page exists without a count query.
    const text = `
        select ${taskColumns}${spec.selected ? `, ${spec.selected}` : ''} from tasks
        where ${where.join(' and ')}
        order by ${orderedBy(spec, key, order)}
        limit ${params.add((b) => b.options.limit + 1)}`;

    return {
        statement: statement(`tasks.list.${internals.shape(options)}`, text),
        values: (userId, requestOptions) => params.values({ userId, options: requestOptions }),
        strip: Boolean(spec.selected)
    };
}


/** Which statement a list request needs: the sort, and which filters are present (their values are bound). */
export function listShape(options: TaskListOptions): string {

    return internals.shape(options);
}


/** The list statement for these options' shape, built once per shape. */
export function listStatement(options: TaskListOptions): ListStatement {

    const shape = internals.shapeNumber(options);
    let built = internals.built.get(shape);
    if (!built) {
        built = buildListStatement(options);
        internals.built.set(shape, built);
    }

    return built;
}
