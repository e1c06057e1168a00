import Crypto from 'node:crypto';

import Knex from 'knex';

import type { DatabaseConfig } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/connection';
import { silentKnexLogger } from '../../src/logger';


export interface TestDatabase {
    db: Database;
    config: DatabaseConfig;
    destroy(): Promise<void>;
}


/** A PostgreSQL database of a test's own: its URL, and the drop that ends it. */
export interface ScratchDatabase {
    url: string;
    drop(): Promise<void>;
}


const internals = {
    defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
    reachable: null as Promise<boolean> | null,
    // Generous: a loaded CI machine makes a burst of a thousand requests wait longer than a service would.
    timeouts: { timeoutMs: 15_000, queryTimeoutMs: 0 },

    /** Runs one statement on the base database, on a connection of its own that is closed again. */
    async onBase(baseUrl: string, sql: string): Promise<void> {

        const admin = Knex({ client: 'pg', connection: baseUrl, pool: { min: 0, max: 1 } });
        try {
            await admin.raw(sql);
        }
        finally {
            await admin.destroy();
        }
    }
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


/** The base database's configuration: PostgreSQL at testDatabaseUrl(), or an in-memory PGlite. */
export async function testDatabaseConfig(): Promise<DatabaseConfig> {

    const url = testDatabaseUrl();
    if (url.startsWith('pglite://')) {
        return { kind: 'pglite', dataDir: null, ...internals.timeouts };
    }

    internals.reachable ??= postgresReachable(url);
    if (!await internals.reachable) {
        if (!process.env.TEST_DATABASE_URL) {
            console.warn(`No PostgreSQL at ${url}: running on embedded PGlite instead.`);
            return { kind: 'pglite', dataDir: null, ...internals.timeouts };
        }

        throw new Error(`TEST_DATABASE_URL=${url} cannot be reached`);
    }

    // CI's run through PgBouncer in transaction mode turns prepared statements off, as its operators would.
    return { kind: 'postgres', url, poolMax: 20, preparedStatements: process.env.DB_PREPARED_STATEMENTS !== 'false', ...internals.timeouts };
}


/**
 * A fresh, empty PostgreSQL database next to the base one, reached the same way (directly, or through the same
 * pooler): each test file works in databases of its own, so files run in parallel without session settings.
 */
export async function createScratchDatabase(baseUrl: string): Promise<ScratchDatabase> {

    const name = `test_${Crypto.randomBytes(6).toString('hex')}`;
    await internals.onBase(baseUrl, `create database ${name}`);

    const url = new URL(baseUrl);
    url.pathname = `/${name}`;
    return {
        url: url.toString(),
        async drop() {

            await internals.onBase(baseUrl, `drop database if exists ${name} with (force)`);
        }
    };
}


/**
 * A migrated database of this test file's own: a fresh PostgreSQL database (so files run in parallel), or a fresh
 * in-memory PGlite.
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {

    const base = await testDatabaseConfig();
    const scratch = base.kind === 'postgres' ? await createScratchDatabase(base.url) : null;
    const config: DatabaseConfig = base.kind === 'postgres' ? { ...base, url: scratch!.url } : base;
    const db = await createDatabase(config, { log: silentKnexLogger() });

    if (options.migrate !== false) {
        await db.knex.migrate.latest();
    }

    return {
        db,
        config,
        async destroy() {

            await db.destroy();
            await scratch?.drop();
        }
    };
}
