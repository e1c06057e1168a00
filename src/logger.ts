import type { ServerResponse } from 'node:http';

import type { Request } from '@hapi/hapi';
import type { Knex } from 'knex';
import Pino from 'pino';


export type Logger = Pino.Logger;


/**
 * The process's one logger: JSON lines, credentials removed before anything is written.
 */
export function createLogger(level: string): Logger {

    return Pino({
        level,
        redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
            remove: true
        }
    });
}


/**
 * What hapi-pino writes per request: the request id on every line, and one line per response whose message
 * gives method, path, status and time. Headers are never serialized (the default copies them all, which costs a third
 * of the server's throughput and would carry credentials).
 */
export const requestLogging = {
    wrapSerializers: false,
    getChildBindings: (request: Request) => ({ req_id: request.info.id }),
    serializers: {
        res: (res: ServerResponse) => ({ statusCode: res.statusCode })
    }
};


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


/** For knex where nothing should be printed: the CLI, which reports failures itself, and the tests. */
export function silentKnexLogger(): Knex.Logger {

    return knexLogger(createLogger('silent'));
}
