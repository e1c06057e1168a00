/**
 * The request path's one way to the database: a statement, written with PostgreSQL's own $n placeholders, and its
 * values. Each statement has a name, under which pg prepares it once per connection (PostgreSQL then parses and
 * plans it once, not per request) where the connection allows it.
 */
export interface Statement {
    readonly name: string;
    readonly text: string;
}


/** What a statement answers: its rows, and how many rows it wrote or read. */
export interface QueryResult<Row> {
    rows: Row[];
    rowCount: number;
}


// Rows are typed by whoever reads them: a statement's columns are its text's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Query = <Row = any>(statement: Statement, values: readonly unknown[]) => Promise<QueryResult<Row>>;


const internals = {
    // PostgreSQL cuts names at 63 bytes: two longer names could become one.
    maxNameBytes: 63,
    named: new Map<string, string>()
};


/**
 * Declares a statement. A name stands for one text: pg refuses a name prepared on a connection with another text,
 * so a second text under a known name is a bug, thrown at once.
 */
export function statement(name: string, text: string): Statement {

    if (Buffer.byteLength(name) > internals.maxNameBytes) {
        throw new Error(`the statement name ${name} is longer than ${internals.maxNameBytes} bytes`);
    }

    const known = internals.named.get(name);
    if (known !== undefined && known !== text) {
        throw new Error(`two statements are named ${name}`);
    }

    internals.named.set(name, text);
    return { name, text };
}


/**
 * A statement never prepared by name: PostgreSQL plans it for its values each time it runs (where a plan made for
 * any values would be a bad one).
 */
export function unprepared(text: string): Statement {

    return { name: '', text };
}


/**
 * The statement as knex.raw takes it (`?` placeholders, a value for each), for running it on a knex connection or
 * transaction: the plan checks EXPLAIN the request path's statements that way.
 */
export function positional(numbered: Statement, values: readonly unknown[]): { sql: string; bindings: unknown[] } {

    const bindings: unknown[] = [];
    const sql = numbered.text.replace(/\$(\d+)/g, (_, n: string) => {

        bindings.push(values[Number(n) - 1]);
        return '?';
    });

    return { sql, bindings };
}
