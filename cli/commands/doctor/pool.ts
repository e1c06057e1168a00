import { embeddedOwner } from '../../../src/data/embedded';
import type { Check, Reached } from './check';
import { fail, ok, warn } from './check';
import { pooled } from './pooler';


const internals = {
    // Past this share of the server's client connections, one more deploy or a migration can find none left.
    poolWarnShare: 0.8
};


/** The connections every process may open at once, against what the server allows its clients. */
export function poolCheck(reached: Reached): Check {

    const { config, facts } = reached;
    if (config.database.kind === 'pglite') {
        const owner = config.database.dataDir ? embeddedOwner(config.database.dataDir) : null;
        return ok('pool', owner?.role === 'todo-api' ? `embedded: reached through the running server (pid ${owner.pid})` : 'embedded: one session, no pool to size');
    }

    const available = facts.maxConnections - facts.reservedConnections;
    const demand = config.database.poolMax * config.workers;
    const pool = `up to ${demand} connections (DB_POOL_MAX ${config.database.poolMax} × ${config.workers} process${config.workers > 1 ? 'es' : ''}) of the ${available} the server allows clients, ${facts.openConnections} open now`;
    if (demand > available) {
        return pooled(reached).pooled ?
            warn('pool', `${pool}; the pooler in between may queue them`, 'make DB_POOL_MAX × WEB_CONCURRENCY at most the pooler\'s pool size') :
            fail('pool', pool, `lower DB_POOL_MAX (or WEB_CONCURRENCY) below ${available}, or put a pooler in front`);
    }

    if (demand > available * internals.poolWarnShare) {
        return warn('pool', pool, 'leave room for other clients, migrations and a second deploy: lower DB_POOL_MAX');
    }

    return ok('pool', pool);
}
