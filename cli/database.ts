import { parseDatabaseConfig } from '../src/config';
import type { Database } from '../src/data/database';
import { createDatabase, describeDatabase } from '../src/data/connection';
import { EmbeddedDatabaseInUse } from '../src/data/embedded';
import { silentKnexLogger } from '../src/logger';
import type { Io } from './io';
import { CliError, configured } from './io';


/**
 * Opens the database the server would use (DATABASE_URL, else the embedded one, through the server when one is
 * running), runs fn, and closes it. Statements have no time limit here: a bulk seed's batches take long.
 */
export async function withDatabase<T>(io: Io, fn: (db: Database, description: string) => Promise<T>): Promise<T> {

    const config = { ...configured(() => parseDatabaseConfig(io.env)), queryTimeoutMs: 0 };
    let db: Database;
    try {
        db = await createDatabase(config, { log: silentKnexLogger(), role: 'todo-admin' });
    }
    catch (err) {
        if (err instanceof EmbeddedDatabaseInUse) {
            throw new CliError(`${err.message}; try again when it has finished`);
        }

        throw err;
    }

    try {
        return await fn(db, describeDatabase(config));
    }
    finally {
        await db.destroy();
    }
}
