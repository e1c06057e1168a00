import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import { run } from '../../cli/main';
import { parseDatabaseConfig } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/connection';
import { silentKnexLogger } from '../../src/logger';
import { testSecret } from './api';
import { createScratchDatabase, testDatabaseConfig } from './database';


export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}


export interface CliTarget {
    /** The environment the CLI runs with: DATABASE_URL pointing at this file's own database. */
    env: Record<string, string>;
    /** Runs todo-admin in this process, as the bin would, and collects its output. */
    cli(argv: string[], env?: Record<string, string>): Promise<CliResult>;
    /** Opens the same database for checks, and closes it again (the embedded one allows one user at a time). */
    query<T>(fn: (db: Database) => Promise<T>): Promise<T>;
    destroy(): Promise<void>;
}


/** A database of the test file's own for the CLI; with migrate, brought up to date by `todo-admin migrate`. */
export async function createCliTarget(options: { migrate?: boolean } = {}): Promise<CliTarget> {

    const config = await testDatabaseConfig();
    let env: Record<string, string>;
    let destroy: () => Promise<void>;

    if (config.kind === 'postgres') {
        const scratch = await createScratchDatabase(config.url);
        env = { DATABASE_URL: scratch.url };
        destroy = () => scratch.drop();
    }
    else {
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-admin-'));
        env = { DATABASE_URL: `pglite://${dir}` };
        destroy = () => Promise.resolve(Fs.rmSync(dir, { recursive: true, force: true }));
    }

    env.BETTER_AUTH_SECRET = testSecret;
    // CI's run through PgBouncer in transaction mode turns prepared statements off: todo-admin and the test's own
    // database handle follow it, as an operator's would.
    if (process.env.DB_PREPARED_STATEMENTS) {
        env.DB_PREPARED_STATEMENTS = process.env.DB_PREPARED_STATEMENTS;
    }

    const target: CliTarget = {
        env,
        async cli(argv, extraEnv = {}) {

            let stdout = '';
            let stderr = '';
            const code = await run(argv, {
                env: { ...env, ...extraEnv },
                out: (text) => (stdout += text),
                err: (text) => (stderr += text),
                progressStream: null
            });

            return { code, stdout, stderr };
        },
        async query(fn) {

            const db = await createDatabase(parseDatabaseConfig(env), { log: silentKnexLogger() });

            try {
                return await fn(db);
            }
            finally {
                await db.destroy();
            }
        },
        destroy
    };

    if (options.migrate) {
        const migrated = await target.cli(['migrate']);
        if (migrated.code !== 0) {
            throw new Error(`todo-admin migrate failed: ${migrated.stderr}`);
        }
    }

    return target;
}
