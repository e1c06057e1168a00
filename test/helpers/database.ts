import Crypto from 'node:crypto';

import Knex from 'knex';

import type { DatabaseConfig } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/database';
import { silentKnexLogger } from '../../src/logger';


export interface TestDatabase {
    db: Database;
    config: DatabaseConfig;
    /** The schema this test file owns (PostgreSQL only). */
    schema?: string;
    destroy(): Promise<void>;
}


const internals = {
    defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
    reachable: null as Promise<boolean> | null
};


/** Where the tests run: TEST_DATABASE_URL, the local PostgreSQL, or embedded PGlite when neither is there. */
export function testDatabaseUrl(): string {

    return process.env.TEST_DATABASE_URL || internals.defaultUrl;
}


async function postgresReachable(url: string): Promise<boolean> {

    const probe = Knex({ client: 'pg', connection: { connectionString: url, connectionTimeoutMillis: 1500 }, pool: { min: 0, max: 1 } });
    try {
        await probe.raw('select 1');
        return true;
    }
    catch {
        return false;
    }
    finally {
        await probe.destroy();
    }
}


export async function testDatabaseConfig(): Promise<DatabaseConfig> {

    const url = testDatabaseUrl();
    if (url.startsWith('pglite://')) {
        return { kind: 'pglite', dataDir: null };
    }

    internals.reachable ??= postgresReachable(url);
    if (!await internals.reachable) {
        if (!process.env.TEST_DATABASE_URL) {
            console.warn(`No PostgreSQL at ${url}: running on embedded PGlite instead.`);
            return { kind: 'pglite', dataDir: null };
        }

        throw new Error(`TEST_DATABASE_URL=${url} cannot be reached`);
    }

    return { kind: 'postgres', url, poolMax: 20, timeoutMs: 5000 };
}


/**
 * A migrated database of this test file's own: a fresh schema on PostgreSQL (so files run in parallel),
 * or a fresh in-memory PGlite.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {

    const config = await testDatabaseConfig();
    const schema = config.kind === 'postgres' ? `test_${Crypto.randomBytes(6).toString('hex')}` : undefined;
    const db = await createDatabase(config, { schema, log: silentKnexLogger() });

    if (options.migrate !== false) {
        await db.migrate.latest();
    }

    return {
        db,
        config,
        schema,
        async destroy() {

            if (schema) {
                await db.raw('drop schema if exists ?? cascade', [schema]);
            }

            await db.destroy();
        }
    };
}
