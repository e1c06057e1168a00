import Http from 'node:http';

import Hapi from '@hapi/hapi';
import Inert from '@hapi/inert';
import Jwt from '@hapi/jwt';
import type HapiSwagger from 'hapi-swagger';

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
    /**
     * Also serve hapi-swagger's description of the routes, made from their joi schemas, to internal requests: the
     * contract tests compare it with openapi.yaml. Off in a running service, which then does not load hapi-swagger.
     */
    describeRoutes?: boolean;
    /** The clock the key set reads (Date.now when not given): tests move it past a refetch interval instead of waiting. */
    keySetClock?: () => number;
}


const internals = {
    // hapi-swagger's Swagger 2.0 description: only server.inject({ allowInternals: true }) reaches it.
    routeDescriptionPath: '/swagger.json',

    // Tasks are small (200 + 4000 characters); anything near this is not a task.
    maxPayloadBytes: 64 * 1024,
    // The request line and all headers together (Node's default, stated so docs/api.md can rely on it).
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
        // A connection idle this long in the middle of a request (a client that stops reading its answer, say) is
        // closed. Node arms it when the connection opens and again as each later request on it starts (one timer a
        // request); hapi's route option would arm it once more for each request, from the request's lifecycle.
        listener.timeout = requestTimeoutMs;
        return listener;
    },

    // hapi-swagger has no option for it; hapi reads isInternal from the route's settings on every request.
    hide(server: Hapi.Server, path: string): void {

        const route = server.match('GET', path);
        if (!route) {
            throw new Error(`No route at ${path} to hide`);
        }

        route.settings.isInternal = true;
    }
};


/**
 * Builds the configured server without starting it: `server.initialize()` for tests, `server.start()` to listen.
 */
export async function createServer({ config, db, logger = createLogger(config.logLevel), describeRoutes = false, keySetClock }: ServerOptions): Promise<Hapi.Server> {

    const server = Hapi.server({
        host: config.host,
        port: config.port,
        listener: internals.listener(config),
        autoListen: true,
        debug: false,                                   // Errors are logged as JSON lines, never printed raw.
        router: {
            stripTrailingSlash: true
        },
        routes: {
            // No origin configured (the production default): no browser on another origin may call, not even preflight.
            cors: config.corsOrigins.length ? {
                origin: config.corsOrigins,
                credentials: true,
                // Last-Event-ID: what subscribeToChanges resumes the stream with, from a page on another origin too.
                additionalHeaders: ['If-Match', 'Idempotency-Key', 'Last-Event-ID'],
                additionalExposedHeaders: ['Location', 'Link', 'X-Next-Cursor', 'X-Request-Id', 'ETag', 'Idempotent-Replayed', 'Retry-After', 'RateLimit', 'RateLimit-Policy']
            } : false,
            security: {
                // Usually the TLS terminator in front of the service's business; HSTS_MAX_AGE_S has the service send it.
                hsts: config.hstsMaxAgeSec ? { maxAge: config.hstsMaxAgeSec } : false,
                xframe: 'deny',
                noSniff: true,
                referrer: 'no-referrer',
                // hapi's defaults add X-XSS-Protection: 0 and X-Download-Options: noopen: no browser in use reads them
                // (the first was for the XSS filters Chrome, Safari and Internet Explorer have dropped, the second for
                // Internet Explorer's downloads), the API answers JSON, and /docs has a Content-Security-Policy.
                xss: false,
                noOpen: false
            },
            cache: {
                otherwise: 'no-store'
            },
            state: {
                parse: false                            // The API reads no cookies: a malformed one must not fail a request.
            },
            payload: {
                maxBytes: internals.maxPayloadBytes,
                allow: 'application/json'
            },
            validate: {
                failAction: validationFailAction     // The joi preferences are the schemas' own (validationPreferences).
            }
        }
    });

    await server.register([
        Jwt,
        Inert,
        {
            plugin: requestLogging,
            options: { logger, ignorePaths: ['/health/live'] }
        }
    ]);

    if (describeRoutes) {
        // Only its description of the routes, from their joi schemas: the tests compare it with openapi.yaml so that
        // no route goes undocumented. /docs renders openapi.yaml itself.
        const { default: Swagger } = await import('hapi-swagger');
        await server.register({
            plugin: Swagger,
            options: {
                info: { title: 'todo-api', version: config.version },
                jsonPath: internals.routeDescriptionPath,
                documentationPage: false,
                swaggerUI: false,
                grouping: 'tags'
            } satisfies HapiSwagger.RegisterOptions
        });

        internals.hide(server, internals.routeDescriptionPath);
    }

    // The client's fault, answered in the error shape: one line, no stack.
    answerClientErrors(server.listener, (err: Error & { code?: string }) => server.log(['connection', 'client', 'warn'], { code: err.code, msg: err.message }));

    await server.register({ plugin: appPlugin, options: { config, db, keySetClock } });

    return server;
}
