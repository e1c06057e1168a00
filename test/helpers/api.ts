import type { Server, ServerInjectOptions, ServerInjectResponse } from '@hapi/hapi';

import type { Config } from '../../src/config';
import { parseConfig } from '../../src/config';
import { mintToken } from '../../src/auth/tokens';
import { taskStore } from '../../src/data/tasks';
import type { Task } from '../../src/common/tasks';
import type { TaskStore } from '../../src/data/tasks';
import type { ServerOptions } from '../../src/server';
import { createServer } from '../../src/server';
import { contractViolations, throwOnViolations, watchResponses } from './contract';
import type { TestDatabase } from './database';
import { createTestDatabase } from './database';


export const testSecret = 'test-secret-that-is-long-enough-0123456789';


export interface ApiRequest extends Omit<ServerInjectOptions, 'url'> {
    url: string;
    /** Send a valid token for this user. */
    as?: string;
}


export interface TestApi {
    server: Server;
    config: Config;
    database: TestDatabase;
    tasks: TaskStore;
    token(userId: string): string;
    /** server.inject(), with every response checked against openapi.yaml: a violation fails the test. */
    request(options: ApiRequest): Promise<ServerInjectResponse>;
    /**
     * What broke openapi.yaml among all the responses the server sent so far, however they were asked for
     * (server.inject, a socket, a client): stop() fails when it is not empty.
     */
    violations: string[];
    /** Creates a task through the API and returns it. */
    createTask(userId: string, fields?: Record<string, unknown>): Promise<Task>;
    stop(): Promise<void>;
}


/**
 * The configuration tests run with: the test secret, no logging, and no rate limits (a test sends far more than a
 * user would in a minute); the tests of the budgets turn them on.
 */
export function testConfig(env: Record<string, string> = {}): Config {

    return parseConfig({ BETTER_AUTH_SECRET: testSecret, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0', ...env });
}


/**
 * DATABASE_LISTEN_URL for a test database reached through a transaction pooler (where LISTEN does not work): the
 * same database on the server TEST_DATABASE_LISTEN_URL names directly. Null when that is not set.
 */
export function testListenUrl(database: { kind: string; url?: string }): string | null {

    const direct = process.env.TEST_DATABASE_LISTEN_URL;
    if (!direct || database.kind !== 'postgres' || !database.url) {
        return null;
    }

    const url = new URL(direct);
    url.pathname = new URL(database.url).pathname;
    return url.toString();
}


/**
 * A server on a fresh database of its own, or on one given (which it then leaves open when it stops); with
 * describeRoutes, serving hapi-swagger's description of its routes to internal requests too; with keySetClock, its
 * key set reading the test's clock.
 */
export async function startTestApi(env: Record<string, string> = {}, shared?: TestDatabase, options: Pick<ServerOptions, 'describeRoutes' | 'keySetClock'> = {}): Promise<TestApi> {

    const database = shared ?? await createTestDatabase();
    const config = { ...testConfig(env), database: database.config };
    config.stream.listenUrl = testListenUrl(database.config) ?? config.stream.listenUrl;
    const server = await createServer({ config, db: database.db, ...options });
    const violations = watchResponses(server);
    await server.initialize();

    const token = (userId: string) => mintToken(config.auth, { userId, ttlSec: 600 }).token;

    const request = async ({ as, ...injectOptions }: ApiRequest) => {

        if (as) {
            injectOptions.headers = { authorization: `Bearer ${token(as)}`, ...injectOptions.headers };
        }

        const response = await server.inject(injectOptions);
        const responseViolations = contractViolations(injectOptions.method ?? 'GET', injectOptions.url, response);
        if (responseViolations.length) {
            throw new Error(`Response breaks openapi.yaml:\n  ${responseViolations.join('\n  ')}\n  body: ${response.payload.slice(0, 500)}`);
        }

        return response;
    };

    return {
        server,
        config,
        database,
        tasks: taskStore(database.db, config.limits),
        token,
        request,
        violations,
        async createTask(userId, fields = {}) {

            const response = await request({ method: 'POST', url: '/api/tasks', as: userId, payload: { title: 'A task', ...fields } });
            if (response.statusCode !== 201) {
                throw new Error(`create failed: ${response.statusCode} ${response.payload}`);
            }

            return response.result as Task;
        },
        async stop() {

            await server.stop();
            if (!shared) {
                await database.destroy();
            }

            throwOnViolations(violations);
        }
    };
}
