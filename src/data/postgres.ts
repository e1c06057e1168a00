import Tls from 'node:tls';

import Knex from 'knex';
import Pg from 'pg';

import type { DatabaseTimeouts, DatabaseTls } from '../config';
import { changeAnnouncer, takesAnnouncedVersions } from './change-announcer';
import type { ConnectionSecurity, Database, DatabaseOptions } from './database';
import { atBoundary } from './errors';
import { migrationConfig, seedConfig } from './migrations';
import { StatementTimeout, statementRunner } from './pool-statements';
import { explainingClient } from './postgres-tls';
import type { Query, QueryResult, Statement } from './query';
import { unprepared } from './query';


/** Where and how a pool connects: pg's options, the TLS they carry, and whether statements are prepared by name. */
export interface PoolTarget {
    connection: Pg.ClientConfig;
    tls: DatabaseTls | null;
    host: string | null;
    poolMax: number;
    /**
     * Off behind a transaction pooler that does not follow prepared statements (PgBouncer before 1.21), and on the
     * embedded database's socket, where every connection is one session: a name prepared by one would clash with
     * another's.
     */
    prepared: boolean;
    /**
     * Whether the writes that take their versions through tasks_take_versions are announced after they commit
     * (change-announcer.ts): on PostgreSQL, where other processes listen. Nobody listens on the embedded database.
     */
    announces: boolean;
}


const internals = {
    // duplicate_prepared_statement (a name another client prepared on the same server connection) and
    // invalid_sql_statement_name (a name prepared on another server connection).
    preparedRefused: new Set(['42P05', '26000']),

    // A transaction's ends: nothing to plan, so not prepared by name.
    begin: unprepared('begin'),
    commit: unprepared('commit')
};


/**
 * A database reached through a pg pool: PostgreSQL by URL, or the embedded database through its owner's socket.
 * The request path's statements run on the pool directly; knex is given the same pool (its `connectionPool`) for
 * migrations, seeds, todo-admin and transactions. knex does not end a pool it was given: destroy ends it after knex.
 */
export function poolDatabase(target: PoolTarget, timeouts: DatabaseTimeouts, options: DatabaseOptions, close?: () => Promise<void>): Database {

    const pool = new Pg.Pool({
        ...target.connection,
        ...(target.tls ? { Client: explainingClient(target.tls, target.host ?? '') } : {}),
        application_name: options.applicationName ?? options.role ?? 'todo-admin',
        max: target.poolMax,
        // How long a statement waits for a connection, a new one included: then it fails, as unavailable (503).
        connectionTimeoutMillis: timeouts.timeoutMs
        // No query_timeout: the request path bounds its statements itself (pool-statements.ts), and knex's statements
        // (migrations, and todo-admin, which runs with no bound anyway) are not bounded. pg's own timer keeps each
        // statement's rows from being collected young: under load every scavenge moved about 1 MB of them to the old
        // generation and paused 10-20 ms, against 4 KB and 2-4 ms without it.
    });

    // An idle connection the server ends (a restart, a terminated session) is dropped by the pool; without a listener
    // the error would end the process.
    pool.on('error', (err) => options.log?.warn?.(`an idle database connection failed and was dropped: ${err.message}`));

    const knex = Knex({ migrations: migrationConfig, seeds: seedConfig, log: options.log, client: 'pg', connectionPool: pool });

    // Prepared by name until the database refuses a name: then a pooler is passing statements between server
    // connections without following them (PgBouncer before 1.21 in transaction mode), and they run unnamed from then
    // on. Both refusals come before the statement runs, so it is run again.
    let prepared = target.prepared;
    const refused = (err: unknown) => {

        if (prepared) {
            prepared = false;
            options.log?.warn?.(`the database refused a prepared statement (${(err as Error).message}): statements are no longer prepared by name; behind a transaction pooler without prepared statements, set DB_PREPARED_STATEMENTS=false`);
        }
    };

    const runner = statementRunner(pool, timeouts.queryTimeoutMs);

    const query: Query = async <Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> => {

        const named = prepared;
        try {
            let result: Pg.QueryResult;
            try {
                result = await runner.run(statement, values, named);
            }
            catch (err) {
                if (!named || !internals.preparedRefused.has((err as { code?: string }).code ?? '')) {
                    throw err;
                }

                refused(err);
                result = await runner.run(statement, values, false);
            }

            if (target.announces && takesAnnouncedVersions(statement)) {
                announcer.announce(values[0] as string);
            }

            return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
        }
        catch (err) {
            throw atBoundary(err);
        }
    };

    // Statements that take versions have the user's id as $1 (statements.ts).
    const announcer = changeAnnouncer(query, (message) => options.log?.warn?.(message));

    /** One run of a transaction's work on a connection of its own; `named`: its statements prepared by name. */
    const attempt = async <T>(work: (query: Query) => Promise<T>, named: boolean, refusal: { err?: unknown }): Promise<T> => {

        let client: Pg.PoolClient;
        try {
            client = await pool.connect();
        }
        catch (err) {
            throw atBoundary(err);
        }

        // Users whose new versions the transaction's statements took: announced once it has committed.
        const written = new Set<string>();

        const inTransaction: Query = async <Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> => {

            if (target.announces && takesAnnouncedVersions(statement)) {
                written.add(values[0] as string);
            }

            // Bounded as the pool's statements are: past DB_QUERY_TIMEOUT_MS the connection is given up for broken.
            try {
                const result = await runner.runOn(client, statement, values, named);
                return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
            }
            catch (err) {
                if (err instanceof StatementTimeout) {
                    broken = err;
                }

                if (named && internals.preparedRefused.has((err as { code?: string }).code ?? '')) {
                    refusal.err = err;
                }

                throw atBoundary(err);
            }
        };

        let broken: Error | undefined;
        try {
            await inTransaction(internals.begin, []);
            const result = await work(inTransaction);
            await inTransaction(internals.commit, []);
            for (const userId of written) {
                announcer.announce(userId);
            }

            return result;
        }
        catch (err) {
            if (!broken) {
                await client.query('rollback').catch((rollbackError: Error) => {

                    broken = rollbackError;
                });
            }

            throw err;
        }
        finally {
            // A connection that could not roll back, or that a statement outlived, is dropped rather than handed out
            // in an unknown state.
            client.release(broken);
        }
    };

    // Prepared by name as the pool's statements are, while the database takes them. A refused name aborts the
    // transaction it came in: it is rolled back and run again from its start, unnamed, as the pool's statements are
    // from then on.
    const transaction = async <T>(work: (query: Query) => Promise<T>): Promise<T> => {

        const named = prepared;
        const refusal: { err?: unknown } = {};
        try {
            return await attempt(work, named, refusal);
        }
        catch (err) {
            if (refusal.err === undefined) {
                throw err;
            }

            refused(refusal.err);
            return await attempt(work, false, {});
        }
    };

    let destroyed: Promise<void> | null = null;

    return {
        query,
        transaction,
        knex,

        // No cancel: knex cancels with pg_cancel_backend on another connection, which behind a transaction pooler
        // names some other client's backend. A connection left waiting is closed, not reused.
        async probe(timeoutMs) {

            const started = performance.now();
            const connection = await pool.connect();
            let failed = true;
            try {
                // pg takes a statement's own query_timeout (its typings do not list it).
                const probe: Pg.QueryConfig & { query_timeout: number } = {
                    text: 'select 1',
                    query_timeout: Math.max(1, Math.round(timeoutMs - (performance.now() - started)))
                };
                await connection.query(probe);
                failed = false;
            }
            finally {
                connection.release(failed);
            }
        },

        async security(): Promise<ConnectionSecurity> {

            const client = await pool.connect();
            try {
                // pg's typings do not list the connection's socket: a TLSSocket once the connection is encrypted.
                const stream = (client as unknown as { connection: { stream: unknown } }).connection.stream;
                if (!(stream instanceof Tls.TLSSocket)) {
                    return { encrypted: false, protocol: null, cipher: null };
                }

                return { encrypted: true, protocol: stream.getProtocol(), cipher: stream.getCipher()?.name ?? null };
            }
            finally {
                client.release();
            }
        },

        destroy() {

            destroyed ??= (async () => {

                await announcer.flush();
                runner.stop();
                await knex.destroy();
                await pool.end();
                await close?.();
            })();

            return destroyed;
        }
    };
}
