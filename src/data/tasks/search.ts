import type { Query, Statement } from '../query';
import { statement, unprepared } from '../query';
import type { TaskListOptions } from './list-query';
import { afterCondition, likePattern, listConditions, orderedBy, Placeholders, positionOf, textHeld } from './list-query';
import { asTask, taskColumns } from './rows';
import type { Task } from '../../common/tasks';


/** A task row of a search statement, with the walk's columns. */
type SearchRow = Task & { sort_key?: string; hit?: boolean; walked?: number; walk_key?: unknown };


interface SearchStatement {
    statement: Statement;
    values(userId: string, options: TaskListOptions, slice: number, wanted: number): unknown[];
}


/** The statements a search reads a page with, for one list shape. */
export interface SearchStatements {
    walk: SearchStatement;
    /** The walk on after a position. */
    walkOn: SearchStatement;
    /** After a position. */
    matches: SearchStatement;
}


const internals = {
    // A search reads at most this many of the user's rows in order per statement: the first, the second, then each
    // next one (a statement's own cost is then small beside its rows'; 1 000 rows take about 75 ms on PGlite).
    slices: [50, 200, 1000],
    // Between a search's statements, the event loop's turn: on PGlite in this process an answer comes back without
    // one, so the statements of a few searches would follow one another with no timer or I/O run until they end.
    nextTurn: () => new Promise<void>((resolve) => setImmediate(resolve)),
    // pg_trgm finds a LIKE pattern by its words' trigrams: it needs three letters or digits in a row.
    trigramRx: /[\p{L}\p{N}]{3}/u,

    // Filled as shapes are first used, as the list's statements are.
    built: new Map<string, SearchStatements>(),

    /** The walk: the user's rows in the list's order, at most `slice`, each tested for the text. */
    walk(options: TaskListOptions, name: string): SearchStatement {

        const params = new Placeholders();
        const holds = textHeld(params.add((b) => likePattern(b.options.search!)));
        const { spec, key, order, where } = listConditions({ ...options, search: undefined }, params);
        const selected = spec.selected ? `, ${spec.selected}` : '';
        const slice = params.add((b) => b.slice);
        const text = `
            select * from (
                select ${taskColumns}${selected}, ${key} as walk_key, ${holds} is true as hit,
                    (row_number() over (order by ${orderedBy(spec, key, order)}))::int as walked
                from tasks
                where ${where.join(' and ')}
                order by ${orderedBy(spec, key, order)}
                limit ${slice}
            ) as slice
            where hit or walked = ${slice}
            order by ${orderedBy(spec, 'walk_key', order)}
            limit ${params.add((b) => b.wanted)}`;

        return {
            statement: statement(name, text),
            values: (userId, o, size, wanted) => params.values({ userId, options: o, slice: size, wanted })
        };
    },

    /**
     * The matches after a position, from the trigram index, sorted. Sent unnamed: planned for its values each time, as
     * a generic plan of it read a heavy user's rows by the sort's index instead.
     */
    matches(options: TaskListOptions): SearchStatement {

        const params = new Placeholders();
        const { spec, key, order, where } = listConditions({ ...options, search: undefined, after: undefined }, params);
        const selected = spec.selected ? `, ${spec.selected}` : '';
        // Where the index reads from, the cursor is a filter only (IS TRUE: no index takes it, and the keys are never
        // null): a sort's index range after it would be the planner's choice wherever it misjudges the range as short.
        const beyond = `(${afterCondition(spec, key, order, params)}) is true`;
        // The text as a value the planner does not see (an InitPlan's): it judges how common a text is by every user's
        // tasks, and a text common among them but rare in this user's would have it read all of this user's rows.
        const hidden = textHeld(`(select ${params.add((b) => likePattern(b.options.search!))}::text)`);
        const text = `
            select * from (
                select ${taskColumns}${selected}, ${key} as walk_key from tasks
                where ${where.join(' and ')} and ${beyond} and ${hidden}
                offset 0
            ) as matched
            order by ${orderedBy(spec, 'walk_key', order)}
            limit ${params.add((b) => b.wanted)}`;

        return {
            statement: unprepared(text),
            values: (userId, o, size, wanted) => params.values({ userId, options: o, slice: size, wanted })
        };
    }
};


/**
 * The statements of a search (q) for one list shape:
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
export function buildSearchStatements(options: TaskListOptions, shape: string): SearchStatements {

    // Every statement but the first reads on after a row the walk read: its shape has a cursor (the value is bound).
    return {
        walk: internals.walk(options, `tasks.search.${shape}`),
        walkOn: internals.walk({ ...options, after: { key: null, id: '' } }, `tasks.search-on.${shape}`),
        matches: internals.matches(options)
    };
}


/** The search statements for these options' shape (the list's shape key), built once per shape. */
export function searchStatements(options: TaskListOptions, shape: string): SearchStatements {

    let built = internals.built.get(shape);
    if (!built) {
        built = buildSearchStatements(options, shape);
        internals.built.set(shape, built);
    }

    return built;
}


/**
 * The first `limit` + 1 tasks of a search, the same as the one list statement with the text's condition would
 * answer, read so that neither a common text nor a rare one costs much more than a list: the user's rows in the
 * list's order, a slice at a time, until the page is full; when the text proves rare there (the walk would read more
 * rows than the index would test) and the trigram index can find it, the rest from the index. A text the index cannot
 * find (no three letters or digits in a row) is walked for to the end in slices, each statement bounded, so that other
 * requests get their turn on a database that runs one statement at a time (PGlite).
 */
export async function searchTasks(query: Query, statements: SearchStatements, userId: string, options: TaskListOptions, maxTasks: number): Promise<SearchRow[]> {

    const wanted = options.limit + 1;
    const indexed = internals.trigramRx.test(options.search!);
    const found: SearchRow[] = [];
    const seen = new Set<string>();
    const take = (rows: SearchRow[]) => {

        // Each statement has a snapshot of its own: a task changed between two of them may be read by both.
        for (const { hit, walked: _walked, walk_key: _walkKey, ...row } of rows) {
            if ((hit ?? true) && !seen.has(row.id) && found.length < wanted) {
                seen.add(row.id);
                found.push(row);
            }
        }
    };

    const read = async (search: SearchStatement, after: TaskListOptions['after'], size: number) => {

        return (await query<SearchRow>(search.statement, search.values(userId, { ...options, after }, size, wanted - found.length))).rows;
    };

    let after = options.after;
    let walked = 0;
    for (let slice = 0; ; ++slice) {
        const size = internals.slices[Math.min(slice, internals.slices.length - 1)];
        if (slice > 0) {
            await internals.nextTurn();
        }

        const rows = await read(slice === 0 ? statements.walk : statements.walkOn, after, size);
        take(rows);

        const last = rows[rows.length - 1];
        if (found.length >= wanted || last?.walked !== size) {
            return found;
        }

        // At the share of matches walked so far (d), the walk still reads about missing / d rows, and the index
        // tests about d x the user's rows (at most maxTasks): the cheaper one goes on.
        walked += size;
        after = positionOf(asTask({ ...last }), options.sort);
        const share = found.length / walked;
        if (indexed && share * maxTasks < (wanted - found.length) / share) {
            await internals.nextTurn();
            take(await read(statements.matches, after, 0));
            return found;
        }
    }
}
