import type { PGlite } from '@electric-sql/pglite';
import Knex from 'knex';
import ClientPgLite from 'knex-pglite';

import type { Database, DatabaseOptions } from './database';
import { atBoundary } from './errors';
import { migrationConfig, seedConfig } from './migrations';
import type { Query, QueryResult, Statement } from './query';


/**
 * An embedded database open in this process (in memory, or a data directory nobody else uses). PGlite runs one
 * statement at a time, in one session: statements are not prepared by name (PGlite plans each), and a knex
 * transaction on it (todo-admin's, a test's) runs its statements in that one session, so nothing else should run
 * beside it.
 */
export function inProcessDatabase(pglite: PGlite, options: DatabaseOptions, close: () => Promise<void>): Database {

    const knex = Knex({
        migrations: migrationConfig,
        seeds: seedConfig,
        log: options.log,
        client: ClientPgLite,
        // knex-pglite takes the instance this process opened; its typings know only file names.
        connection: { pglite } as Knex.Knex.StaticConnectionConfig
    });

    const query: Query = async <Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> => {

        try {
            const result = await pglite.query<Row>(statement.text, values as unknown[]);
            return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
        }
        catch (err) {
            throw atBoundary(err);
        }
    };

    // PGlite runs one transaction at a time: other statements wait for it to end.
    const transaction = async <T>(work: (query: Query) => Promise<T>): Promise<T> => {

        try {
            return await pglite.transaction((tx) => {

                return work(async <Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> => {

                    const result = await tx.query<Row>(statement.text, values as unknown[]);
                    return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
                });
            });
        }
        catch (err) {
            throw atBoundary(err);
        }
    };

    let destroyed: Promise<void> | null = null;

    return {
        query,
        transaction,
        knex,

        async probe(timeoutMs) {

            let timer: NodeJS.Timeout | undefined;
            const late = new Promise<never>((_, reject) => {

                timer = setTimeout(() => reject(new Error('timeout expired: the embedded database did not answer')), timeoutMs);
            });

            try {
                await Promise.race([pglite.query('select 1'), late]);
            }
            finally {
                clearTimeout(timer);
            }
        },

        security() {

            return Promise.resolve(null);
        },

        destroy() {

            // knex-pglite closes the instance only when its pool opened the one connection: a database that never ran
            // a statement through knex would stay open, and keep the process alive. close() closes what is still open.
            destroyed ??= knex.destroy().then(close);
            return destroyed;
        }
    };
}
