import Boom from '@hapi/boom';


// What a failed statement means to the API: the database could not be reached (503, try again later), or a bug of
// ours (500). The data layer's statements fail with a Boom error that says which; the driver's error is its cause.


const internals = {
    // The database is down, unreachable, overloaded or failing over: the statement was fine, and trying again later
    // is the answer (503). Everything else a statement can fail with is a bug of ours (500).
    unavailableCodes: new Set([
        'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH',
        'ENETUNREACH', 'ENETDOWN', 'EPIPE', 'ENOENT',               // ENOENT: the embedded server's socket is gone
        '57014',                                                    // canceled: statement_timeout
        '25006',                                                    // read-only: a standby after a failover
        '40001', '40P01'                                            // serialization failure, deadlock
    ]),

    // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
    // crash, cannot connect now), 58 system error (I/O).
    unavailableSqlState: /^(08|53|57P|58)/,

    // What pg, knex and its pool say, without a code, when a connection dies, never answers, or is being closed with
    // the pool (a stop). knex puts the SQL in front of the driver's message, so these are searched anywhere in it.
    unavailableMessages: /Connection terminated|Connection ended unexpectedly|connection error|not queryable|Query read timeout|timeout expired|timeout exceeded when trying to connect|Client was closed|socket hang up|^aborted$|PGlite is closed/i
};


/**
 * True when the error says the database could not be reached (rather than that a statement failed).
 */
export function isDatabaseUnavailable(err: unknown): boolean {

    if (!err || typeof err !== 'object') {
        return false;
    }

    const { name, code, message, isBoom, output } = err as { name?: string; code?: unknown; message?: unknown; isBoom?: boolean; output?: { statusCode?: number } };
    if (isBoom && output?.statusCode === 503) {
        return true;
    }

    // DatabaseTlsError: TLS refused the connection (a certificate that no longer verifies, say); it says why in the log.
    if (name === 'KnexTimeoutError' || name === 'EmbeddedDatabaseInUse' || name === 'DatabaseTlsError') {
        return true;
    }

    if (typeof code === 'string' && (internals.unavailableCodes.has(code) || internals.unavailableSqlState.test(code))) {
        return true;
    }

    return typeof message === 'string' && internals.unavailableMessages.test(message);
}


/** A statement's failure as the API answers it: 503 when the database could not be reached, else 500. */
export function atBoundary(err: unknown): Boom.Boom {

    const error = err instanceof Error ? err : new Error(String(err));
    return Boom.boomify(error, { statusCode: isDatabaseUnavailable(error) ? 503 : 500, override: false });
}
