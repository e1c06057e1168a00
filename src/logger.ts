import type { Knex } from 'knex';
import Pino from 'pino';


export type Logger = Pino.Logger;


/**
 * The process's one logger: JSON lines, credentials removed before anything is written.
 */
export function createLogger(level: string, destination?: Pino.DestinationStream): Logger {

    return Pino({
        level,
        redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
            remove: true
        }
    }, destination);
}


/** Knex's own warnings (a refused connection, a pool problem) as structured lines of the same logger. */
export function knexLogger(logger: Logger): Knex.Logger {

    const log = logger.child({ component: 'database' });
    return {
        warn: (message: unknown) => log.warn(String(message)),
        error: (message: unknown) => log.error(String(message)),
        deprecate: (method: string, alternative: string) => log.warn(`${method} is deprecated; use ${alternative}`),
        debug: (message: unknown) => log.debug(String(message))
    };
}
