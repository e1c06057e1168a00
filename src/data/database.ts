import Fs from 'node:fs';
import Path from 'node:path';

import Knex from 'knex';
import ClientPgLite from 'knex-pglite';

import type { DatabaseConfig } from '../config';


export type Database = Knex.Knex;


export interface DatabaseOptions {
    /** Use this schema instead of `public` (created when missing): lets test files share one database. */
    schema?: string;
    /** Where knex's own warnings go (it prints them to the console otherwise). */
    log?: Knex.Knex.Logger;
}


const internals = {
    // The tree this module runs from: the repository under tsx, dist/ once compiled.
    codeRoot: Path.resolve(__dirname, '..', '..'),

    // Connection-level failures: the database is down or unreachable, not the query at fault.
    unavailableCodes: new Set([
        'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
        '57P01', '57P02', '57P03',                                  // admin / crash shutdown, cannot connect now
        '53300',                                                    // too many connections
        '08000', '08001', '08003', '08004', '08006'                 // connection exceptions
    ])
};


export const migrationsDirectory = Path.join(internals.codeRoot, 'migrations');


/**
 * The migrations as the TypeScript sources (under tsx) or their compiled JavaScript (dist/), both recorded under
 * the source's name: a database migrated by one runs as up to date under the other.
 */
export const migrationSource: Knex.Knex.MigrationSource<string> = {
    getMigrations() {

        const files = Fs.readdirSync(migrationsDirectory).filter((file) => /^[^.]+\.(ts|js)$/.test(file));
        return Promise.resolve(files.sort());
    },
    getMigrationName(file) {

        return file.replace(/\.js$/, '.ts');
    },
    getMigration(file) {

        return Promise.resolve(require(Path.join(migrationsDirectory, file)));
    }
};


export const migrationConfig: Knex.Knex.MigratorConfig = {
    migrationSource,
    tableName: 'knex_migrations'
};


export const seedConfig: Knex.Knex.SeederConfig = {
    directory: Path.join(internals.codeRoot, 'seeds'),
    loadExtensions: ['.ts', '.js'],
    extension: 'ts'
};


export function knexConfig(config: DatabaseConfig, options: DatabaseOptions = {}): Knex.Knex.Config {

    const shared = {
        migrations: { ...migrationConfig, schemaName: options.schema },
        seeds: seedConfig,
        searchPath: options.schema ? [options.schema] : undefined,
        log: options.log
    };

    if (config.kind === 'pglite') {
        if (config.dataDir) {
            Fs.mkdirSync(config.dataDir, { recursive: true });
        }

        return {
            ...shared,
            client: ClientPgLite,
            connection: config.dataDir ? { filename: config.dataDir } : {}
        };
    }

    return {
        ...shared,
        client: 'pg',
        connection: {
            connectionString: config.url,
            connectionTimeoutMillis: config.timeoutMs,
            application_name: 'todo-api'
        },
        pool: { min: 0, max: config.poolMax },
        acquireConnectionTimeout: config.timeoutMs
    };
}


export async function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {

    const db = Knex(knexConfig(config, options));
    if (options.schema) {
        await db.raw('create schema if not exists ??', [options.schema]);
    }

    return db;
}


/** A timestamptz column as the API writes it (RFC 3339, UTC, microseconds, Z), formatted by the database. */
export function timestampColumn(column: string): string {

    return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
}


export function describeDatabase(config: DatabaseConfig): string {

    if (config.kind === 'pglite') {
        return config.dataDir ? `embedded PGlite in ${config.dataDir}` : 'embedded PGlite in memory';
    }

    const url = new URL(config.url);
    return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}


/**
 * True when the error says the database could not be reached (rather than that a statement failed).
 */
export function isDatabaseUnavailable(err: unknown): boolean {

    if (!err || typeof err !== 'object') {
        return false;
    }

    const { name, code, message } = err as { name?: string; code?: string; message?: string };
    return name === 'KnexTimeoutError' ||
        (typeof code === 'string' && internals.unavailableCodes.has(code)) ||
        /^Connection terminated/.test(message ?? '');
}
