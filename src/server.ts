import Http from 'node:http';

import Hapi from '@hapi/hapi';
import Inert from '@hapi/inert';
import Jwt from '@hapi/jwt';
import Vision from '@hapi/vision';
import HapiPino from 'hapi-pino';
import HapiSwagger from 'hapi-swagger';

import type { Config } from './config';
import type { Database } from './data/database';
import { answerClientErrors } from './extensions/client-errors';
import { validationFailAction } from './extensions/errors';
import type { Logger } from './logger';
import { createLogger, requestLogging } from './logger';
import { appPlugin } from './plugin';


export interface ServerOptions {
    config: Config;
    db: Database;
    /** The process's logger; one at config.logLevel on stdout when not given. */
    logger?: Logger;
}


const internals = {
    // Tasks are small (200 + 4000 characters); anything near this is not a task.
    maxPayloadBytes: 64 * 1024,
    // The request line and all headers together (Node's default, stated so the README can rely on it).
    maxHeaderBytes: 16 * 1024,

    listener(config: Config): Http.Server {

        const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = config.http;
        const listener = Http.createServer({
            maxHeaderSize: internals.maxHeaderBytes,
            headersTimeout: headersTimeoutMs,
            requestTimeout: requestTimeoutMs,
            // How often Node looks for requests past those timeouts (30 s by default, which would let them overstay).
            connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeoutMs / 4))
        });

        listener.keepAliveTimeout = keepAliveTimeoutMs;
        return listener;
    }
};


/**
 * Builds the configured server without starting it: `server.initialize()` for tests, `server.start()` to listen.
 */
export async function createServer({ config, db, logger = createLogger(config.logLevel) }: ServerOptions): Promise<Hapi.Server> {

    const server = Hapi.server({
        host: config.host,
        port: config.port,
        listener: internals.listener(config),
        autoListen: true,
        debug: false,                                   // Errors are logged by hapi-pino, never printed raw.
        router: {
            stripTrailingSlash: true
        },
        routes: {
            cors: {
                origin: config.corsOrigins,
                credentials: true,
                additionalHeaders: ['If-Match', 'Idempotency-Key'],
                additionalExposedHeaders: ['Location', 'Link', 'X-Next-Cursor', 'X-Request-Id', 'ETag', 'Idempotent-Replayed']
            },
            security: {
                hsts: false,                            // The TLS terminator in front of the service decides HSTS.
                xframe: 'deny',
                noSniff: true,
                referrer: 'no-referrer'
            },
            cache: {
                otherwise: 'no-store'
            },
            state: {
                parse: false                            // The API reads no cookies: a malformed one must not fail a request.
            },
            timeout: {
                socket: config.http.requestTimeoutMs     // A connection idle this long in the middle of a request is closed.
            },
            payload: {
                maxBytes: internals.maxPayloadBytes,
                allow: 'application/json'
            },
            validate: {
                failAction: validationFailAction,
                options: {
                    abortEarly: false,
                    stripUnknown: true,                 // Unknown and read-only fields in a body change nothing.
                    errors: { wrap: { label: false } }
                }
            }
        }
    });

    await server.register([
        Jwt,
        Inert,
        Vision,
        {
            plugin: HapiPino,
            options: {
                instance: logger,
                ignorePaths: ['/health/live'],
                logPayload: false,
                ...requestLogging
            }
        },
        {
            plugin: HapiSwagger,
            options: {
                info: { title: 'todo-api', version: config.version },
                documentationPath: '/docs',
                jsonPath: '/swagger.json',
                grouping: 'tags',
                securityDefinitions: {
                    bearer: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'Bearer <token>' }
                },
                security: [{ bearer: [] }]
            } satisfies HapiSwagger.RegisterOptions
        }
    ]);

    answerClientErrors(server.listener, (err) => server.log(['connection', 'client', 'error'], err));

    await server.register({ plugin: appPlugin, options: { config, db } });

    return server;
}
