import { parseDatabaseConfig } from '../src/config';
import type { Database } from '../src/data/database';
import { createDatabase, describeDatabase } from '../src/data/database';
import { silentKnexLogger } from '../src/logger';
import type { Io } from './io';
import { configured } from './io';


/** Opens the database the server would use (DATABASE_URL, else the embedded one), runs fn, and closes it. */
export async function withDatabase<T>(io: Io, fn: (db: Database, description: string) => Promise<T>): Promise<T> {

    const config = configured(() => parseDatabaseConfig(io.env));
    const db = await createDatabase(config, { log: silentKnexLogger() });
    try {
        return await fn(db, describeDatabase(config));
    }
    finally {
        await db.destroy();
    }
}
