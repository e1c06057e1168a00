import type { Database } from './database';


/** What the database says of itself, for `todo-admin doctor`. */
export interface DatabaseFacts {
    /** version(), e.g. "PostgreSQL 15.20 on x86_64-pc-linux-gnu, ..." */
    version: string;
    /** The port the server itself listens on (null over a Unix socket or on PGlite). */
    serverPort: number | null;
    maxConnections: number;
    /** Connections kept for superusers: the rest is what clients share. */
    reservedConnections: number;
    /** Connections open now, all clients. */
    openConnections: number;
    /** statement_timeout of this session (the role's or database's default), in ms; 0 is none. */
    statementTimeoutMs: number;
}


const internals = {
    // One statement: behind a transaction pooler, every statement may reach another server connection.
    facts: `
        select version() as version,
               inet_server_port() as server_port,
               current_setting('max_connections')::int as max_connections,
               current_setting('superuser_reserved_connections')::int as reserved_connections,
               (select count(*)::int from pg_stat_activity) as open_connections,
               (select setting::bigint * case unit when 's' then 1000 when 'min' then 60000 else 1 end
                from pg_settings where name = 'statement_timeout') as statement_timeout_ms`
};


/** TLS on this session's server connection, as the server has it (pg_stat_ssl); behind a pooler, the pooler's. */
export interface ServerTls {
    ssl: boolean;
    /** TLSv1.3, TLSv1.2... */
    version: string | null;
    cipher: string | null;
}


/** pg_stat_ssl's row for this session; null where there is none (the embedded database). */
export async function serverTls(db: Database): Promise<ServerTls | null> {

    const { rows: [row] } = await db.knex.raw('select ssl, version, cipher from pg_stat_ssl where pid = pg_backend_pid()');
    return row ? { ssl: row.ssl === true, version: row.version ?? null, cipher: row.cipher ?? null } : null;
}


export async function databaseFacts(db: Database): Promise<DatabaseFacts> {

    const { rows: [row] } = await db.knex.raw(internals.facts);
    return {
        version: row.version,
        serverPort: row.server_port === null ? null : Number(row.server_port),
        maxConnections: row.max_connections,
        reservedConnections: row.reserved_connections,
        openConnections: row.open_connections,
        statementTimeoutMs: Number(row.statement_timeout_ms)
    };
}


/** The median time of a few `select 1` round trips, in ms (the first one opens the connection, and is not counted). */
export async function roundTripMs(db: Database, samples = 5): Promise<number> {

    await db.knex.raw('select 1');
    const times: number[] = [];
    for (let i = 0; i < samples; ++i) {
        const started = performance.now();
        await db.knex.raw('select 1');
        times.push(performance.now() - started);
    }

    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
}
