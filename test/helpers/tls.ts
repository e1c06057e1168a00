import ChildProcess from 'node:child_process';
import Crypto from 'node:crypto';
import Path from 'node:path';

import Package from '../../package.json';
import type { DatabaseConfig } from '../../src/config';
import { parseDatabaseConfig } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/connection';
import { silentKnexLogger } from '../../src/logger';
import { ensureBuilt, root } from './process';


/** The PostgreSQL with TLS the TLS tests run against (scripts/tls-postgres.sh starts one and sets these). */
export interface TlsEnvironment {
    /** Its postgres database, with sslmode=verify-full. */
    url: string;
    /** The CA that signed the server's certificate, and one that did not. */
    caFile: string;
    wrongCaFile: string;
}


export interface TlsDatabase {
    /** DATABASE_URL of a database of the test file's own, sslmode=verify-full. */
    url: string;
    /** Opens it again (verified with the right CA) for checks, and closes it. */
    query<T>(fn: (db: Database) => Promise<T>): Promise<T>;
    drop(): Promise<void>;
}


export interface ProcessResult {
    code: number | null;
    stdout: string;
    stderr: string;
}


const internals = {
    variables: ['TEST_TLS_DATABASE_URL', 'TEST_TLS_CA_FILE', 'TEST_TLS_WRONG_CA_FILE'],
    bin: Path.join(root, Package.bin['todo-admin']),

    async onDatabase<T>(config: DatabaseConfig, fn: (db: Database) => Promise<T>): Promise<T> {

        const db = await createDatabase(config, { log: silentKnexLogger() });
        try {
            return await fn(db);
        }
        finally {
            await db.destroy();
        }
    }
};


/** The one line that says what is missing, or null when the TLS tests can run. */
export function missingTlsEnvironment(): string | null {

    const missing = internals.variables.filter((name) => !process.env[name]);
    return missing.length ?
        `${missing.join(', ')} not set: the TLS tests need a PostgreSQL with TLS; run them with scripts/tls-postgres.sh npm run test:tls` :
        null;
}


export function tlsEnvironment(): TlsEnvironment {

    const missing = missingTlsEnvironment();
    if (missing) {
        throw new Error(missing);
    }

    return { url: process.env.TEST_TLS_DATABASE_URL!, caFile: process.env.TEST_TLS_CA_FILE!, wrongCaFile: process.env.TEST_TLS_WRONG_CA_FILE! };
}


/** The URL with another sslmode, or another host. */
export function withUrl(url: string, change: { sslmode?: string; hostname?: string }): string {

    const changed = new URL(url);
    if (change.sslmode) {
        changed.searchParams.set('sslmode', change.sslmode);
    }

    if (change.hostname) {
        changed.hostname = change.hostname;
    }

    return changed.toString();
}


/** A fresh database on the TLS server, migrated unless told not to, reached verified as a deployment would. */
export async function createTlsDatabase(environment: TlsEnvironment, options: { migrate?: boolean } = {}): Promise<TlsDatabase> {

    const name = `tls_${Crypto.randomBytes(6).toString('hex')}`;
    const base = parseDatabaseConfig({ DATABASE_URL: environment.url, DATABASE_CA_FILE: environment.caFile });
    await internals.onDatabase(base, (db) => db.knex.raw(`create database ${name}`));

    const url = new URL(environment.url);
    url.pathname = `/${name}`;
    const config = parseDatabaseConfig({ DATABASE_URL: url.toString(), DATABASE_CA_FILE: environment.caFile });
    if (options.migrate !== false) {
        await internals.onDatabase(config, (db) => db.knex.migrate.latest());
    }

    return {
        url: url.toString(),
        query: (fn) => internals.onDatabase(config, fn),
        drop: () => internals.onDatabase(base, (db) => db.knex.raw(`drop database if exists ${name} with (force)`))
    };
}


/** Runs the todo-admin bin (dist/, built first when out of date) as its own process, with only this environment (no .env of the checkout's). */
export async function todoAdmin(argv: string[], env: Record<string, string>): Promise<ProcessResult> {

    await ensureBuilt();
    return new Promise((resolve, reject) => {

        ChildProcess.execFile(process.execPath, [internals.bin, ...argv], { cwd: root, env: { PATH: process.env.PATH!, ...env } }, (err, stdout, stderr) => {

            const code = err ? (err as { code?: unknown }).code : 0;
            if (typeof code !== 'number') {
                reject(err);
                return;
            }

            resolve({ code, stdout, stderr });
        });
    });
}
