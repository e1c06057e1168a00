import Fs from 'node:fs';
import Path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import Tls from 'node:tls';

import Knex from 'knex';
import ClientPgLite from 'knex-pglite';
import Pg from 'pg';

import type { DatabaseConfig, DatabaseTls } from '../config';
import { parseDatabaseTls } from '../config';
import type { EmbeddedRole, EmbeddedSocket } from './embedded';
import { EmbeddedDatabaseInUse, embeddedOwner, ownEmbeddedDatabase } from './embedded';
import { openPglite } from './embedded-template';


export type Database = Knex.Knex;


export interface DatabaseOptions {
    /** Where knex's own warnings go (it prints them to the console otherwise). */
    log?: Knex.Knex.Logger;
    /**
     * Who opens an embedded data directory. The server owns it and serves it to other processes; todo-admin (the
     * default) goes through the running server, or owns the directory for as long as the command runs.
     */
    role?: EmbeddedRole;
    /** What the database's session list shows for these connections (the role by default). */
    applicationName?: string;
}


const internals = {
    // The tree this module runs from: the repository under tsx, dist/ once compiled.
    codeRoot: Path.resolve(__dirname, '..', '..'),
    // What that tree's modules end in: .ts under tsx, .js compiled (beside a .d.ts of the same name, not a module).
    codeExtension: Path.extname(__filename),

    // The database is down, unreachable, overloaded or failing over: the statement was fine, and trying again later
    // is the answer (503). Everything else a statement can fail with is a bug of ours (500).
    unavailableCodes: new Set([
        'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH',
        'ENETUNREACH', 'ENETDOWN', 'EPIPE', 'ENOENT',               // ENOENT: the embedded server's socket is gone
        '57014',                                                    // canceled: statement_timeout
        '25006',                                                    // read-only: a standby after a failover
        '40001', '40P01'                                            // serialization failure, deadlock
    ]),

    // SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P operator intervention (shutdown,
    // crash, cannot connect now), 58 system error (I/O).
    unavailableSqlState: /^(08|53|57P|58)/,

    // What pg, knex and its pool say, without a code, when a connection dies, never answers, or is being closed with
    // the pool (a stop). knex puts the SQL in front of the driver's message, so these are searched anywhere in it.
    unavailableMessages: /Connection terminated|Connection ended unexpectedly|connection error|not queryable|Query read timeout|timeout expired|timeout exceeded when trying to connect|Client was closed|socket hang up|^aborted$/i,

    // The pg pool under each knex instance made on PostgreSQL (a transaction is not among them: it has its own
    // connection).
    pools: new WeakMap<Database, Pg.Pool>(),

    // What a URL may say of TLS: read by parseDatabaseTls, and kept from pg, whose own reading of sslmode differs
    // (and warns on every start) and would replace the TLS options given to it.
    tlsParameters: ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey', 'sslnegotiation', 'uselibpqcompat'],

    // Node's codes for a certificate that does not verify (its chain, its use); an expired one and a host name it does
    // not list have their own lines.
    untrusted: /^(UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|CERT_(SIGNATURE_FAILURE|UNTRUSTED|REJECTED|REVOKED|CHAIN_TOO_LONG)$|INVALID_CA$|INVALID_PURPOSE$|PATH_LENGTH_EXCEEDED$)/,
    outOfDate: new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD']),

    /** What a failed connection says of TLS, as one line with its fix; null when it failed for another reason. */
    tlsFailure(err: Error & { code?: string }, tls: DatabaseTls, host: string): DatabaseTlsError | null {

        const code = err.code ?? '';
        const against = tls.ca ? `${tls.ca.from} ${tls.ca.file}` : 'the system\'s CAs';
        if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
            return new DatabaseTlsError(`the database server's certificate is not for ${host} (${err.message})`,
                'connect by a name the certificate lists, or set sslmode=verify-ca to verify its CA only', err);
        }

        if (internals.outOfDate.has(code)) {
            return new DatabaseTlsError(`the database server's certificate is not valid now (${err.message})`, 'the server needs a current certificate', err);
        }

        if (internals.untrusted.test(code)) {
            return new DatabaseTlsError(`the database server's certificate does not verify against ${against} (${err.message})`,
                'set DATABASE_CA_FILE to the PEM file of the CA that signed it', err);
        }

        if (err.message === 'The server does not support SSL connections') {
            return new DatabaseTlsError(`the database server does not accept TLS, which ${tls.requested ?? tls.ca?.from ?? 'DATABASE_URL'} asks for`,
                'turn ssl on in its postgresql.conf, or set sslmode=disable for a database on this machine', err);
        }

        if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
            return new DatabaseTlsError(`the TLS handshake with the database server failed (${err.message})`,
                'check that DATABASE_URL names a PostgreSQL server, and its ssl settings', err);
        }

        if (tls.mode === 'disable' && code === '28000' && /no encryption/.test(err.message)) {
            return new DatabaseTlsError(`the database server refuses connections without TLS (${err.message})`,
                'add ?sslmode=verify-full to DATABASE_URL (and set DATABASE_CA_FILE for a private CA)', err);
        }

        return null;
    },

    /** pg's Client, with a failed connection's TLS cause said as DatabaseTlsError. */
    clientClass(tls: DatabaseTls, host: string): typeof Pg.Client {

        const explain = (err: Error) => internals.tlsFailure(err, tls, host) ?? err;

        type Callback = ((err: Error) => void) | ((err: null, client: Pg.Client) => void);

        // pg's pool connects with a callback, a client of its own with the promise.
        class Client extends Pg.Client {

            connect(): Promise<Pg.Client>;
            connect(callback: Callback): void;
            connect(callback?: Callback): Promise<Pg.Client> | void {

                if (!callback) {
                    return super.connect().catch((err: Error) => {

                        throw explain(err);
                    });
                }

                // pg calls back with (err) or (null, client).
                const done = callback as (err: Error | null, client?: Pg.Client) => void;
                super.connect((err: Error | null, client?: Pg.Client) => done(err ? explain(err) : null, client));
            }
        }

        return Client;
    }
};


/**
 * A connection refused for what TLS found: a server certificate that does not verify, or TLS that one side asks for
 * and the other does not speak. The message is one line: the problem, then what to do about it.
 */
export class DatabaseTlsError extends Error {

    constructor(public readonly problem: string, public readonly fix: string, cause: unknown) {

        super(`${problem}: ${fix}`, { cause });
        this.name = 'DatabaseTlsError';
    }
}


/** pg's TLS options for a DatabaseTls: false for none; the server verified unless no-verify; its host name under verify-full. */
export function tlsOptions(tls: DatabaseTls): false | ConnectionOptions {

    if (tls.mode === 'disable') {
        return false;
    }

    return {
        ...(tls.ca ? { ca: tls.ca.pem } : {}),
        ...(tls.client ? { cert: tls.client.cert, key: tls.client.key } : {}),
        rejectUnauthorized: tls.mode !== 'no-verify',
        ...(tls.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {})
    };
}


/**
 * What pg is given for a PostgreSQL DatabaseConfig: the URL less what it says of TLS, and TLS options made of
 * config.tls (or of the URL alone, for a configuration made without parseDatabaseConfig). pg never sees an sslmode.
 */
export function postgresConnection(config: Extract<DatabaseConfig, { kind: 'postgres' }>): { connection: Pg.ClientConfig; tls: DatabaseTls; host: string } {

    const url = new URL(config.url);
    const tls = config.tls ?? parseDatabaseTls(url, {});
    const negotiation = url.searchParams.get('sslnegotiation');
    const rewritten = internals.tlsParameters.some((name) => url.searchParams.has(name));
    for (const name of internals.tlsParameters) {
        url.searchParams.delete(name);
    }

    return {
        connection: {
            connectionString: rewritten ? url.toString() : config.url,
            ssl: tlsOptions(tls),
            ...(negotiation === 'direct' || negotiation === 'postgres' ? { sslnegotiation: negotiation } : {})
        },
        tls,
        host: url.hostname
    };
}


export const migrationsDirectory = Path.join(internals.codeRoot, 'migrations');


/** Where a new migration is written: the TypeScript sources, which the build compiles into dist/migrations. */
export const migrationSourcesDirectory = Path.join(internals.codeExtension === '.js' ? Path.dirname(internals.codeRoot) : internals.codeRoot, 'migrations');


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


/**
 * Brings a database this process owns (the embedded one) up to date. Nothing pending, as on every start but the
 * first, costs one statement; otherwise knex's migrator runs, with its lock. Saves a start the migrator's dozen
 * statements and its transaction.
 */
export async function migrateOwnDatabase(db: Database): Promise<void> {

    const files = await migrationSource.getMigrations([]);
    const applied = await db.raw(`select name from ${migrationConfig.tableName}`)
        .then(({ rows }: { rows: { name: string }[] }) => new Set(rows.map((row) => row.name)))
        .catch(() => new Set<string>());                                                      // no table yet: a new database

    if (files.every((file) => applied.has(migrationSource.getMigrationName(file)))) {
        return;
    }

    await db.migrate.latest();
}


export const seedConfig: Knex.Knex.SeederConfig = {
    directory: Path.join(internals.codeRoot, 'seeds'),
    loadExtensions: [internals.codeExtension],
    extension: 'ts'
};


/** What knex is given: PostgreSQL by URL or through an embedded database's socket, or an embedded one in this process. */
type Target =
    | { kind: 'url'; config: Extract<DatabaseConfig, { kind: 'postgres' }> }
    | { kind: 'socket'; socket: EmbeddedSocket; poolMax: number }
    | { kind: 'in-process'; pglite?: unknown };


const embedded = {
    // The server's pool on its own embedded database (which runs one statement at a time), and todo-admin's.
    serverPoolMax: 4,
    guestPoolMax: 2
};


function inProcessKnex(target: Extract<Target, { kind: 'in-process' }>, options: DatabaseOptions): Database {

    return Knex({
        migrations: migrationConfig,
        seeds: seedConfig,
        log: options.log,
        client: ClientPgLite,
        // knex-pglite takes the instance this process opened; its typings know only file names.
        connection: (target.pglite ? { pglite: target.pglite } : {}) as Knex.Knex.StaticConnectionConfig
    });
}


/**
 * knex on PostgreSQL over a pg pool of its own: knex's `connectionPool`, so that migrations, todo-admin and
 * transactions go through knex, and the service's statements (statementRunner) take the same pool's connections
 * without the per-statement timers and promises of knex's own pool. knex does not end a pool it was given: the pool
 * ends once knex has let go of it.
 */
function postgresKnex(target: Exclude<Target, { kind: 'in-process' }>, config: DatabaseConfig, options: DatabaseOptions): Database {

    // The embedded database's socket is this machine's: no TLS (whatever PGSSLMODE says). pg finds a Unix socket
    // by its directory: <host>/.s.PGSQL.<port>.
    const { connection, tls, host } = target.kind === 'url' ?
        postgresConnection(target.config) :
        {
            connection: { host: Path.dirname(target.socket.path), port: 5432, user: 'postgres', database: 'postgres', ssl: false },
            tls: null,
            host: null
        };

    const pool = new Pg.Pool({
        ...connection,
        ...(tls ? { Client: internals.clientClass(tls, host) } : {}),
        application_name: options.applicationName ?? options.role ?? 'todo-admin',
        max: target.kind === 'url' ? target.config.poolMax : target.poolMax,
        // How long a statement waits for a connection, a new one included: then it fails, as unavailable (503).
        connectionTimeoutMillis: config.timeoutMs,
        // A statement that outlives it fails, and its connection, which still waits for that statement (a stalled
        // network, a hung server), is closed rather than handed out again: pg's pool drops a connection released
        // with an error.
        ...(config.queryTimeoutMs ? { query_timeout: config.queryTimeoutMs } : {})
    });

    // An idle connection the server ends (a restart, a terminated session) is dropped by the pool; without a listener
    // the error would end the process.
    pool.on('error', (err) => options.log?.warn?.(`an idle database connection failed and was dropped: ${err.message}`));
    // So would one on a connection that is out of the pool with no statement running (a transaction between its
    // statements): the pool listens only to idle connections, and knex not at all to those of a pool it was given.
    // The work holding the connection learns of it from its next statement, and the pool drops the connection when it
    // comes back.
    pool.on('connect', (client) => client.on('error', () => undefined));

    const db = closingWith(Knex({
        migrations: migrationConfig,
        seeds: seedConfig,
        log: options.log,
        client: 'pg',
        connectionPool: pool
    }), () => pool.end());

    internals.pools.set(db, pool);
    return db;
}


/** Runs close once knex has let go of its connections: the embedded database this process owns goes after them. */
function closingWith(db: Database, close: () => Promise<void>): Database {

    // knex's destroy() is its client's; the knex function's own property cannot be replaced.
    const client = db.client as { destroy(callback?: (err?: unknown) => void): Promise<void> };
    const destroy = client.destroy.bind(client);
    let closed: Promise<void> | null = null;
    client.destroy = (callback) => {

        closed ??= destroy().then(close);
        if (callback) {
            closed.then(() => callback(), callback);
        }

        return closed;
    };

    return db;
}


async function openEmbedded(config: Extract<DatabaseConfig, { kind: 'pglite' }> & { dataDir: string }, options: DatabaseOptions): Promise<Database> {

    const role = options.role ?? 'todo-admin';
    if (role === 'todo-admin') {
        // A running server serves the directory: go through it rather than open a second copy.
        const owner = embeddedOwner(config.dataDir);
        if (typeof owner?.socket?.path === 'string') {
            return postgresKnex({ kind: 'socket', socket: owner.socket, poolMax: embedded.guestPoolMax }, config, options);
        }

        if (owner) {
            throw new EmbeddedDatabaseInUse(config.dataDir, owner);
        }
    }

    const owned = await ownEmbeddedDatabase(config.dataDir, { role, serve: role === 'todo-api' });
    const db = owned.socket ?
        postgresKnex({ kind: 'socket', socket: owned.socket, poolMax: embedded.serverPoolMax }, config, options) :
        inProcessKnex({ kind: 'in-process', pglite: owned.pglite }, options);

    return closingWith(db, () => owned.close());
}


/**
 * Opens the configured database. An embedded data directory has one owner at a time (see DatabaseOptions.role);
 * EmbeddedDatabaseInUse says who holds it when it cannot be shared.
 */
export async function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {

    let db: Database;
    if (config.kind === 'postgres') {
        db = postgresKnex({ kind: 'url', config }, config, options);
    }
    else if (config.dataDir) {
        db = await openEmbedded({ ...config, dataDir: config.dataDir }, options);
    }
    else {
        // knex-pglite closes the instance only when its pool opened the one connection: a database that never ran a
        // statement would stay open, and keep the process alive.
        const pglite = await openPglite(null);
        db = closingWith(inProcessKnex({ kind: 'in-process', pglite }, options), async () => {

            if (!pglite.closed) {
                await pglite.close();
            }
        });
    }

    return db;
}


/** A timestamptz column as the API writes it (RFC 3339, UTC, microseconds, Z), formatted by the database. */
export function timestampColumn(column: string): string {

    return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
}


/**
 * A timestamptz column as PostgreSQL writes a UTC timestamp (ISO style: "2026-12-01 17:30:00.5"), which apiTimestamp
 * turns into the API's form. PostgreSQL's own output costs a fraction of to_char's formatting, and the database
 * shares the machine: a list of tasks formats dozens of timestamps per request.
 */
export function utcTimestampColumn(column: string): string {

    return `(${column} at time zone 'UTC')::text as ${column}`;
}


/**
 * A timestamp from utcTimestampColumn in the API's form: "2026-12-01T17:30:00.500000Z". One already in that form
 * (answers stored by an earlier version, say) is returned as it is; null stays null. PostgreSQL's ISO output of the
 * years the API takes is "YYYY-MM-DD HH:MM:SS", and a fraction without trailing zeros when there is one.
 */
export function apiTimestamp(value: string | null): string | null {

    if (value === null || value.endsWith('Z')) {
        return value;
    }

    if (value.length < 19 || value.length > 26 || value[4] !== '-' || value[10] !== ' ' || value[13] !== ':' || (value.length > 19 && value[19] !== '.')) {
        // Only a database whose DateStyle is not ISO writes otherwise (PostgreSQL's default is ISO).
        throw new Error(`the database wrote a timestamp as "${value}": its DateStyle must be ISO`);
    }

    return `${value.slice(0, 10)}T${value.slice(11, 19)}.${value.slice(20).padEnd(6, '0')}Z`;
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

    const { name, code, message } = err as { name?: string; code?: unknown; message?: unknown };
    // DatabaseTlsError: TLS refused the connection (a certificate that no longer verifies, say); it says why in the log.
    if (name === 'KnexTimeoutError' || name === 'EmbeddedDatabaseInUse' || name === 'DatabaseTlsError') {
        return true;
    }

    if (typeof code === 'string' && (internals.unavailableCodes.has(code) || internals.unavailableSqlState.test(code))) {
        return true;
    }

    return typeof message === 'string' && internals.unavailableMessages.test(message);
}


/** What a statement answers: its rows, and how many rows it wrote or read. */
export interface StatementResult<Row> {
    rows: Row[];
    rowCount: number;
}


/** A connection as knex's pool hands it out: pg's Client, or the embedded PGlite in this process. */
interface PooledConnection {
    query(text: string, values: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null; affectedRows?: number }>;
}


/**
 * Runs statements the way knex.raw does, less what knex does per statement on top: building a query object,
 * rewriting its placeholders, its runner and events. On PostgreSQL they run on the pg pool under knex; in a knex
 * transaction on its connection, and on an in-process PGlite on knex's. Each statement's text is turned from knex's
 * `?` placeholders into PostgreSQL's `$1, $2, ...` once and kept (the statements are a fixed, bounded set), so a
 * request only binds values.
 */
export function statementRunner(db: Database): <Row>(sql: string, values: readonly unknown[]) => Promise<StatementResult<Row>> {

    const pool = internals.pools.get(db) ?? null;
    const client = db.client as { acquireConnection(): Promise<PooledConnection>; releaseConnection(connection: PooledConnection): unknown };
    const numbered = new Map<string, string>();

    const onConnection = async (text: string, values: unknown[]) => {

        const connection = await client.acquireConnection();
        try {
            return await connection.query(text, values);
        }
        finally {
            void client.releaseConnection(connection);
        }
    };

    return async <Row>(sql: string, values: readonly unknown[]) => {

        let text = numbered.get(sql);
        if (text === undefined) {
            let n = 0;
            text = sql.replace(/\?/g, () => `$${++n}`);
            numbered.set(sql, text);
        }

        // As knex.raw does, for whoever listens (a benchmark that checks which statements are sent, say).
        if (db.listenerCount('query')) {
            db.emit('query', { sql: text, bindings: values });
        }

        const result: Awaited<ReturnType<PooledConnection['query']>> = pool ?
            await pool.query(text, values as unknown[]) :
            await onConnection(text, values as unknown[]);

        return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.affectedRows ?? 0 };
    };
}


/**
 * Whether the database answers a statement within timeoutMs, waiting for a connection included. No cancel: knex
 * cancels with pg_cancel_backend on another connection, which behind a transaction pooler names some other client's
 * backend. A connection left waiting is closed, not reused.
 */
export async function probeDatabase(db: Database, timeoutMs: number): Promise<void> {

    const pool = internals.pools.get(db);
    if (!pool) {
        await db.raw('select 1').timeout(timeoutMs);
        return;
    }

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
}


/**
 * On PostgreSQL with TLS, opens one connection and fails with DatabaseTlsError when TLS refuses it (a certificate
 * that does not verify, a server without TLS): a configuration to fix before serving. A database that cannot be
 * reached at all passes: that is an outage, which the service rides out (503 until the database is back).
 */
export async function checkDatabaseTls(config: DatabaseConfig): Promise<void> {

    if (config.kind !== 'postgres') {
        return;
    }

    const { connection, tls, host } = postgresConnection(config);
    if (tls.mode === 'disable') {
        return;
    }

    const Client = internals.clientClass(tls, host);
    const client = new Client({ ...connection, connectionTimeoutMillis: config.timeoutMs, application_name: 'todo-api' });
    client.on('error', () => undefined);
    try {
        await client.connect();
    }
    catch (err) {
        if (err instanceof DatabaseTlsError) {
            throw err;
        }

        return;
    }

    await client.end();
}


/** What this process's own connection to the database is: encrypted or not, and how. */
export interface ConnectionSecurity {
    encrypted: boolean;
    /** TLSv1.3, TLSv1.2... */
    protocol: string | null;
    cipher: string | null;
}


/** The security of one of the pool's connections, as its socket has it; null on a database in this process. */
export async function connectionSecurity(db: Database): Promise<ConnectionSecurity | null> {

    const pool = internals.pools.get(db);
    if (!pool) {
        return null;
    }

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
}
