// Timestamps as the statements select them: formatted by the database, in UTC.


/** A timestamptz column as the API writes it (RFC 3339, UTC, microseconds, Z), formatted by the database. */
export function timestampColumn(column: string): string {

    return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
}


/**
 * A timestamptz column as PostgreSQL writes a UTC timestamp (ISO style: "2026-12-01 17:30:00.5"), which apiTimestamp
 * turns into the API's form. PostgreSQL's own output costs a fraction of to_char's formatting, and the database
 * shares the machine: a list of tasks formats dozens of timestamps per request.
 */
export function utcTimestampColumn(column: string): string {

    return `(${column} at time zone 'UTC')::text as ${column}`;
}
