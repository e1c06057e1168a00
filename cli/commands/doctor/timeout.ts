import type { Check, Reached } from './check';
import { ok, warn } from './check';


/** PostgreSQL only: whether the server ends a runaway statement that the service stopped waiting for. */
export function timeoutCheck({ config, facts }: Reached): Check | null {

    if (config.database.kind !== 'postgres') {
        return null;
    }

    return facts.statementTimeoutMs === 0 ?
        warn('timeout', `statement_timeout is off on the server; the service waits ${config.database.queryTimeoutMs} ms (DB_QUERY_TIMEOUT_MS) but a runaway statement keeps running`,
            'ALTER ROLE <the service\'s role> SET statement_timeout = \'5s\'') :
        ok('timeout', `statement_timeout ${facts.statementTimeoutMs} ms on the server, DB_QUERY_TIMEOUT_MS ${config.database.queryTimeoutMs} ms here`);
}
