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
 * The process's one logger: JSON lines, credentials removed before anything is written. Lines go to standard output,
 * or to `destination` (a test's).
 */
export function createLogger(level: string, destination?: Pino.DestinationStream): Logger {

    const logger = Pino({
        level,
        // The pid tells workers apart; the host name, the same on every line, is the log collector's to add.
        base: { pid: process.pid },
        redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'],
            remove: true
        }
    }, level === 'silent' ? undefined : destination ?? output.destination());

    responseLines.formatted.add(logger);
    return logger;
}


/**
 * The line every answered request leaves, {"level":30,"time":…,"pid":…,"req_id":…,"res":{"statusCode":…},
 * "responseTime":…,"msg":"[response] …"}: what logger.info writes for it, byte for byte for any path a request over
 * HTTP can have (test/logger.test.ts holds the two side by side; Node reads the request line as latin1, so no path
 * holds a lone surrogate, which JSON.stringify escapes and pino would not). For a logger of createLogger's, whose lines
 * have that one shape, the line is put together here and handed to the logger's destination. pino's general path
 * (hooks, serializers, the redaction check and key-by-key formatting, for a line whose keys never change) was the
 * costliest single step the service adds to a request: writing the line here serves 3-4% more lists and gets under
 * load. Any other logger gets logger.info.
 */
const responseLines = {
    // pino's number for info, and the level the line is written at.
    info: 30,
    formatted: new WeakSet<Logger>(),

    writer(logger: Logger): (requestId: string, method: string, path: string, statusCode: number, responseTime: number) => void {

        const message = (method: string, path: string, statusCode: number, responseTime: number) => `[response] ${method} ${path} ${statusCode} (${responseTime}ms)`;
        if (!responseLines.formatted.has(logger)) {
            return (requestId, method, path, statusCode, responseTime) => logger.info({ req_id: requestId, res: { statusCode }, responseTime }, message(method, path, statusCode, responseTime));
        }

        const destination = (logger as unknown as Record<symbol, Pino.DestinationStream>)[Pino.symbols.streamSym];
        const afterTime = `,"pid":${process.pid},"req_id":`;
        return (requestId, method, path, statusCode, responseTime) => {

            if (logger.levelVal > responseLines.info) {
                return;
            }

            destination.write(`{"level":${responseLines.info},"time":${Date.now()}${afterTime}${JSON.stringify(requestId)},"res":{"statusCode":${statusCode}},"responseTime":${responseTime},"msg":${JSON.stringify(message(method, path, statusCode, responseTime))}}\n`);
        };
    }
};


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
        const responseLine = responseLines.writer(logger);

        // The id a request is known by in the logs and in its X-Request-Id: random, where hapi's own (request.info.id)
        // names the host and the pid and counts the requests. Made with the request, as hapi makes it: no extension.
        server.decorate('request', 'requestId', () => Crypto.randomUUID(), { apply: true });

        server.events.on('response', (request) => {

            if (ignored.has(request.path)) {
                return;
            }

            const responseTime = (request.info.completed || request.info.responded || Date.now()) - request.info.received;
            responseLine(request.requestId, request.method, request.path, request.raw.res.statusCode, responseTime);
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
