import type { ConnectionOptions } from 'node:tls';

import Pg from 'pg';

import type { DatabaseConfig, DatabaseTls } from '../config';
import { parseDatabaseTls } from '../config';


// TLS to PostgreSQL: pg's options for the configured TLS, and a refused connection's TLS cause said in one line.


const internals = {
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


/** pg's Client, with a failed connection's TLS cause said as DatabaseTlsError. */
export function explainingClient(tls: DatabaseTls, host: string): typeof Pg.Client {

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

    const Client = explainingClient(tls, host);
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
