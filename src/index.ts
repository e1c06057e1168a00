import Cluster from 'node:cluster';

import type { Server } from '@hapi/hapi';

import type { Config } from './config';
import { ConfigError, readConfig } from './config';
import type { Database } from './data/database';
import { createDatabase, describeDatabase } from './data/connection';
import { migrateOwnDatabase } from './data/migrations';
import { checkDatabaseTls } from './data/postgres-tls';
import { EmbeddedDatabaseInUse } from './data/embedded';
import type { Logger } from './logger';
import { createLogger, knexLogger } from './logger';
import { createServer } from './server';
import { shutdownTimeoutMs, superviseWorkers, warnOfDevelopmentSecret, warnOfSemiSpace } from './workers';


/** One server process: alone, or one of WEB_CONCURRENCY workers sharing the port. */
async function serve(config: Config, logger: Logger): Promise<void> {

    const worker = Cluster.isWorker;
    let db: Database | null = null;
    let server: Server | null = null;
    let stopping = false;

    const start = async () => {

        // A worker reaches an embedded database through the primary, which owns and migrates it.
        db = await createDatabase(config.database, worker ?
            { log: knexLogger(logger), role: 'todo-admin', applicationName: 'todo-api' } :
            { log: knexLogger(logger), role: 'todo-api' });

        // The embedded database belongs to this process, so it is brought up to date here;
        // a shared PostgreSQL is migrated by the operator (`todo-admin migrate`), once per deploy.
        if (config.database.kind === 'pglite' && !worker) {
            await migrateOwnDatabase(db.knex);
        }

        if (stopping) {
            return;
        }

        server = await createServer({ config, db, logger });
        await server.start();
        if (!worker) {
            warnOfDevelopmentSecret(config, logger);
            warnOfSemiSpace(config, logger);
        }

        logger.info({ uri: server.info.uri, database: describeDatabase(config.database) }, worker ? 'worker listening' : 'todo-api listening');
    };

    const starting = start();

    // Handled from the first moment: a signal during the start lets it finish, then closes everything it opened
    // (the embedded database's lock included), in the reverse order.
    const stop = async (signal: NodeJS.Signals) => {

        if (stopping) {
            return;
        }

        stopping = true;
        logger.info({ signal }, 'stopping: finishing requests in flight');
        try {
            await starting.catch(() => undefined);
            await server?.stop({ timeout: shutdownTimeoutMs });
            await db?.destroy();
            logger.info('stopped');

            // A worker's channel to the primary would keep it alive.
            Cluster.worker?.disconnect();
        }
        catch (err) {
            logger.error({ err }, 'unclean stop');
            process.exitCode = 1;
        }
    };

    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await starting;
}


async function main(): Promise<void> {

    const config = readConfig();
    const logger = createLogger(config.logLevel);
    if (Cluster.isPrimary) {
        // Once, before any worker: a server that TLS refuses is a configuration to fix, not an outage to wait out.
        await checkDatabaseTls(config.database);
    }

    if (config.workers > 1 && Cluster.isPrimary) {
        await superviseWorkers(config, logger);
        return;
    }

    await serve(config, logger);
}


main().catch((err: unknown) => {

    if (err instanceof ConfigError) {
        console.error(`todo-api: configuration error: ${err.message}`);
    }
    else if (err instanceof EmbeddedDatabaseInUse) {
        console.error(`todo-api: ${err.message}: stop it first, or give this server another DATABASE_URL`);
    }
    else {
        console.error('todo-api: failed to start:', err instanceof Error ? err.message : err);
    }

    process.exit(1);
});
