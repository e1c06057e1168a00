import Crypto from 'node:crypto';

import type { LogEvent, Plugin, Request, RequestEvent } from '@hapi/hapi';
import type { Knex } from 'knex';
import Pino from 'pino';

import type { LineOutput } from './log-output';
import { lineOutput } from './log-output';


export type Logger = Pino.Logger;


declare module '@hapi/hapi' {
    interface Request {
        /** The random id of the request: its log lines' req_id and its answer's X-Request-Id. */
        requestId: string;
    }
}


const output = {
    // Lines gather up to 4 KB and go out in one write, at the latest after flushMs: one system call for many lines
    // under load, and none of a thread pool's hand-offs (asynchronous writes cost more than they save on a busy core).
    flushMs: 100,
    stdout: null as LineOutput | null,

    /** Standard output, shared by every logger of the process and written out when it exits. */
    destination(): LineOutput {

        output.stdout ??= lineOutput(1, { flushMs: output.flushMs });
        return output.stdout;
    }
};


/**
 * The process's one logger: JSON lines, credentials removed before anything is written.
 */
export function createLogger(level: string): Logger {

    return Pino({
        level,
        // The pid tells workers apart; the host name, the same on every line, is the log collector's to add.
        base: { pid: process.pid },
        redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
            remove: true
        }
    }, level === 'silent' ? undefined : output.destination());
}


type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';


const internals = {
    levels: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as Level[],

    /** The level a log event's tags ask for: the most severe level among them, else info. */
    level(tags: Record<string, true | undefined>): Level {

        return internals.levels.find((level) => tags[level]) ?? 'info';
    }
};


export interface RequestLoggingOptions {
    logger: Logger;
    /** Paths whose responses are not logged (probes that run every few seconds). */
    ignorePaths?: string[];
}


/**
 * A random id for every request, and one line per response with that id, method, path, status and time, and the lines requests and the server
 * log (request.log, server.log) at the level their tags name. Nothing per request but that line: no child logger, no
 * headers (so no credentials) and no payloads.
 */
export const requestLogging: Plugin<RequestLoggingOptions> = {
    name: 'todo-api/request-logging',
    register(server, { logger, ignorePaths = [] }) {

        const ignored = new Set(ignorePaths);

        // The id a request is known by in the logs and in its X-Request-Id: random, where hapi's own (request.info.id)
        // names the host and the pid and counts the requests. Made with the request, as hapi makes it: no extension.
        server.decorate('request', 'requestId', () => Crypto.randomUUID(), { apply: true });

        server.events.on('response', (request) => {

            if (ignored.has(request.path)) {
                return;
            }

            const statusCode = request.raw.res.statusCode;
            const responseTime = (request.info.completed || request.info.responded || Date.now()) - request.info.received;
            logger.info({ req_id: request.requestId, res: { statusCode }, responseTime }, `[response] ${request.method} ${request.path} ${statusCode} (${responseTime}ms)`);
        });

        // hapi hands listeners the tags as an object too: { error: true, ... }.
        server.events.on({ name: 'request', channels: ['app', 'error'] }, (request: Request, event: RequestEvent, tags: Record<string, true>) => {

            const level = event.channel === 'error' ? 'error' : internals.level(tags);
            const data = event.error ?? event.data;
            logger[level]({ req_id: request.requestId, tags: event.tags, ...(data instanceof Error ? { err: data } : { data }) }, data instanceof Error ? data.message : 'request log');
        });

        server.events.on('log', (event: LogEvent, tags: Record<string, true>) => {

            const data = event.error ?? event.data;
            logger[internals.level(tags)]({ tags: event.tags, ...(data instanceof Error ? { err: data } : { data }) }, data instanceof Error ? data.message : 'server log');
        });
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
