import Cluster from 'node:cluster';
import type { Worker } from 'node:cluster';

import type { Config } from './config';
import type { Database } from './data/database';
import { createDatabase, describeDatabase } from './data/connection';
import { migrateOwnDatabase } from './data/migrations';
import type { Logger } from './logger';
import { knexLogger } from './logger';
import { keepWorkersBudgets } from './rate-limits/budgets';
import { semiSpaceInEffect, withSemiSpace } from './semi-space';


/** How long requests in flight are given to finish when the server stops. */
export const shutdownTimeoutMs = 10_000;


const internals = {
    // Workers still running this long after SIGTERM are killed: they overstayed the shutdown timeout.
    killAfterMs: shutdownTimeoutMs + 5000,
    // Workers that die before they listen, one after another: the start itself is failing, not a worker.
    maxFailedStarts: 3
};


export function warnOfDevelopmentSecret(config: Config, logger: Logger): void {

    if (config.developmentSecretFile) {
        logger.warn({ secret_file: config.developmentSecretFile },
            'BETTER_AUTH_SECRET is not set: using a development secret made for this machine; get a token with: npx todo-admin mint-token --user alice');
    }
}


/**
 * A V8_SEMI_SPACE_MB that this process does not run with (set in `.env`, which node has not read when it starts, or a
 * server started without `npm start`): said once at start, since no running process can change it.
 */
export function warnOfSemiSpace(config: Config, logger: Logger, execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): void {

    const inEffect = semiSpaceInEffect(execArgv, env.NODE_OPTIONS);
    if (inEffect !== config.semiSpaceMb && (inEffect !== null || env.V8_SEMI_SPACE_MB !== undefined)) {
        logger.warn({ v8_semi_space_mb: config.semiSpaceMb, in_effect: inEffect },
            `V8_SEMI_SPACE_MB is ${config.semiSpaceMb} but this process runs with ${inEffect === null ? 'V8\'s own size' : `--max-semi-space-size=${inEffect}`}: node takes it when it starts; set it in the environment of npm start, or start node with --max-semi-space-size=${config.semiSpaceMb}`);
    }
}


/**
 * The primary of WEB_CONCURRENCY workers, each a whole server on the same port (node:cluster hands connections
 * round-robin to them). It owns the embedded database when there is one, so that the workers reach it through its
 * socket; it replaces a worker that dies, and on SIGTERM or SIGINT it stops every worker gracefully, then itself.
 */
export async function superviseWorkers(config: Config, logger: Logger): Promise<void> {

    let db: Database | null = null;
    let stopping = false;
    let failedStarts = 0;
    let announced = false;
    const listening = new Set<number>();
    let resolveStopped: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

    const workers = () => Object.values(Cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);

    const stop = (signal: NodeJS.Signals | null, exitCode = 0) => {

        if (stopping) {
            return;
        }

        stopping = true;
        process.exitCode = exitCode;
        logger.info({ signal, workers: workers().length }, 'stopping: workers finish their requests in flight');
        for (const worker of workers()) {
            worker.process.kill('SIGTERM');
        }

        setTimeout(() => {

            for (const worker of workers()) {
                logger.error({ worker_pid: worker.process.pid }, 'worker overstayed the shutdown timeout: killed');
                worker.process.kill('SIGKILL');
            }
        }, internals.killAfterMs).unref();

        if (!workers().length) {
            resolveStopped();
        }
    };

    // Node passes the signal's number as a second argument, which is not an exit code.
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));

    if (config.database.kind === 'pglite' && config.database.dataDir) {
        db = await createDatabase(config.database, { log: knexLogger(logger), role: 'todo-api' });
        await migrateOwnDatabase(db.knex);
    }

    Cluster.on('listening', (worker, address) => {

        listening.add(worker.id);
        failedStarts = 0;
        if (!announced && listening.size >= config.workers) {
            announced = true;
            const uri = `http://${address.address}:${address.port}`;
            logger.info({ uri, workers: config.workers, database: describeDatabase(config.database) }, 'todo-api listening');
        }
    });

    Cluster.on('exit', (worker, code, signal) => {

        const listened = listening.delete(worker.id);
        if (stopping) {
            if (!workers().length) {
                resolveStopped();
            }

            return;
        }

        if (!listened && ++failedStarts >= internals.maxFailedStarts) {
            logger.error({ worker_pid: worker.process.pid, code, signal }, 'workers keep exiting before they listen: stopping');
            stop(null, 1);
            return;
        }

        logger.error({ worker_pid: worker.process.pid, code, signal }, 'worker exited unexpectedly: starting another');
        Cluster.fork();
    });

    // The workers' rate limit budgets live here unless Redis keeps them.
    keepWorkersBudgets(config.rateLimits);

    // A signal while the embedded database was opening: nothing to start.
    if (!stopping) {
        // Each worker (and each one that replaces it) starts with the configured young generation, whatever this
        // process was started with: the workers serve the requests.
        Cluster.setupPrimary({ execArgv: withSemiSpace(process.execArgv, config.semiSpaceMb) });
        for (let i = 0; i < config.workers; ++i) {
            Cluster.fork();
        }

        warnOfDevelopmentSecret(config, logger);
    }

    await stopped;
    await db?.destroy();
    logger.info('stopped');
}
