import type { Statement } from '../query';
import { statement } from '../query';
import { taskColumns } from './rows';
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
            options.dueAfter !== undefined, Boolean(options.overdue), Boolean(options.search), options.after !== undefined
        ].map((part) => (part === true ? 1 : part === false ? 0 : part)).join('.');
    },

    likePattern(text: string): string {

        return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
    },

    // Filled as shapes are first used: at most 1 280 (sort, order, filters present).
    built: new Map<string, ListStatement>()
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
    }
};


/** The cursor of the task a page ends with, in the list's sort. */
export function positionOf(task: Task & { sort_key?: string }, sort: TaskSort = 'created_at'): TaskPosition {

    return { key: internals.sorts[sort].keyOf(task), id: task.id };
}


/**
 * The list statement for one shape. When the list is sorted by due date, the due-date filters are written on the
 * sort expression, so they bound the index range instead of filtering the rows read.
 */
export function buildListStatement(options: TaskListOptions): ListStatement {

    const sort = options.sort ?? 'created_at';
    const order = options.order ?? 'desc';
    const spec = internals.sorts[sort];
    const key = spec.expression[order];

    // Placeholders are numbered as the conditions are written; binders give their values in the same order.
    const binders: ((userId: string, options: TaskListOptions) => unknown[])[] = [(userId) => [userId]];
    let count = 1;
    const next = () => `$${++count}`;
    const where = ['user_id = $1'];

    if (options.completed !== undefined) {
        where.push(`completed = ${next()}`);
        binders.push((_, o) => [o.completed]);
    }

    if (options.priorities?.length) {
        where.push(`priority = any(string_to_array(${next()}, ','))`);
        binders.push((_, o) => [o.priorities!.join(',')]);

        // Sorted by priority, the ranks asked for also bound the index range: one priority, or adjacent ones, read
        // only their own rows instead of walking past the others.
        if (sort === 'priority') {
            where.push(`${key} between ${next()}::int and ${next()}::int`);
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
        where.push(`${due} < ${next()}::timestamptz${order === 'desc' ? dated : ''}`);
        binders.push((_, o) => [o.dueBefore]);
    }

    if (options.dueAfter !== undefined) {
        where.push(`${due} > ${next()}::timestamptz${order === 'asc' ? dated : ''}`);
        binders.push((_, o) => [o.dueAfter]);
    }

    if (options.overdue) {
        where.push(`completed = false and ${due} < now()${order === 'desc' ? dated : ''}`);
    }

    if (options.search) {
        const pattern = next();
        where.push(`(title ilike ${pattern} escape '\\' or description ilike ${pattern} escape '\\')`);
        binders.push((_, o) => [internals.likePattern(o.search!)]);
    }

    if (options.after) {
        where.push(`(${key}, id) ${order === 'asc' ? '>' : '<'} (${spec.bound[order](next())}, ${next()}::uuid)`);
        binders.push((_, o) => [o.after!.key, o.after!.id]);
    }

    // One row more than the page tells whether a next page exists without a count query.
    const text = `
        select ${taskColumns}${spec.selected ? `, ${spec.selected}` : ''} from tasks
        where ${where.join(' and ')}
        order by ${key} ${order}, id ${order}
        limit ${next()}`;

    binders.push((_, o) => [o.limit + 1]);

    return {
        statement: statement(`tasks.list.${internals.shape(options)}`, text),
        values: (userId, o) => binders.flatMap((bind) => bind(userId, o)),
        strip: Boolean(spec.selected)
    };
}


/** The list statement for these options' shape, built once per shape. */
export function listStatement(options: TaskListOptions): ListStatement {

    const shape = internals.shape(options);
    let built = internals.built.get(shape);
    if (!built) {
        built = buildListStatement(options);
        internals.built.set(shape, built);
    }

    return built;
}
