import { ConfigError, readConfig } from './config';
import { createDatabase, describeDatabase } from './data/database';
import { EmbeddedDatabaseInUse } from './data/embedded';
import { createLogger, knexLogger } from './logger';
import { createServer } from './server';


const internals = {
    shutdownTimeoutMs: 10_000
};


async function main(): Promise<void> {

    const config = readConfig();
    const logger = createLogger(config.logLevel);
    const db = await createDatabase(config.database, { log: knexLogger(logger), role: 'todo-api' });

    // The embedded database belongs to this process, so it is brought up to date here;
    // a shared PostgreSQL is migrated by the operator (`todo-admin migrate`), once per deploy.
    if (config.database.kind === 'pglite') {
        await db.migrate.latest();
    }

    const server = await createServer({ config, db, logger });
    await server.start();
    if (config.developmentSecretFile) {
        server.logger.warn({ secret_file: config.developmentSecretFile },
            'BETTER_AUTH_SECRET is not set: using a development secret made for this machine; get a token with: npx todo-admin mint-token --user alice');
    }

    server.logger.info({ uri: server.info.uri, database: describeDatabase(config.database) }, 'todo-api listening');

    let stopping = false;
    const stop = async (signal: NodeJS.Signals) => {

        if (stopping) {
            return;
        }

        stopping = true;
        server.logger.info({ signal }, 'stopping: finishing requests in flight');
        try {
            await server.stop({ timeout: internals.shutdownTimeoutMs });
            await db.destroy();
            server.logger.info('stopped');
        }
        catch (err) {
            server.logger.error({ err }, 'unclean stop');
            process.exitCode = 1;
        }
    };

    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
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
