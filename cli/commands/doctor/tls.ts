import type { DatabaseTls } from '../../../src/config';
import type { ConnectionSecurity } from '../../../src/data/database';
import { postgresConnection } from '../../../src/data/postgres-tls';
import type { ServerTls } from '../../../src/data/diagnostics';
import { serverTls } from '../../../src/data/diagnostics';
import type { Check, Reached } from './check';
import { ok, warn } from './check';


/** What the tls check judges: the TLS asked for, the host connected to, and what the connection turned out to be. */
export interface TlsFacts {
    tls: DatabaseTls;
    host: string;
    /** This process's side (its socket); null for a database in this process. */
    security: ConnectionSecurity | null;
    /** The server's side (pg_stat_ssl), where it has one. */
    server: ServerTls | null;
}


const internals = {
    // A database on this machine: what crosses to it never leaves it.
    localHosts: /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\]|\/.*)?$/i
};


/** PostgreSQL only: the facts tlsCheck judges, from one of the pool's connections and the server. */
export async function databaseTlsCheck({ config, db }: Reached): Promise<Check | null> {

    if (config.database.kind !== 'postgres') {
        return null;
    }

    const { tls, host } = postgresConnection(config.database);
    return tlsCheck({ tls, host, security: await db.security(), server: await serverTls(db).catch(() => null) });
}


/**
 * Whether the connection is encrypted, and what of the server was verified against which CAs. It warns of a
 * database on another machine reached without TLS or without verifying the server, and of an sslmode whose meaning
 * differs elsewhere (require, prefer: verified here, by nothing in libpq).
 */
export function tlsCheck({ tls, host, security, server }: TlsFacts): Check {

    const local = internals.localHosts.test(host);
    const fix = 'add ?sslmode=verify-full to DATABASE_URL, and set DATABASE_CA_FILE to the PEM file of the CA that signed the server\'s certificate if a private CA did';

    if (!security?.encrypted) {
        return local ?
            ok('tls', `not encrypted: the database is on this machine (${host || 'a Unix socket'})`) :
            warn('tls', `not encrypted: passwords and data cross the network to ${host} in the clear`, fix);
    }

    // The server's view where it has one; behind a pooler it sees the pooler's connection.
    const protocol = server?.ssl ? server.version : security.protocol;
    const cipher = server?.ssl ? server.cipher : security.cipher;
    const encrypted = `encrypted (${protocol}${cipher ? `, ${cipher}` : ''})`;
    const hop = server && !server.ssl ? '; the server sees its own connection unencrypted (pg_stat_ssl): something in between ends TLS' : '';
    const against = tls.ca ? `${tls.ca.from} ${tls.ca.file}` : 'the system\'s CAs';

    if (tls.mode === 'no-verify') {
        const detail = `${encrypted}; the server is not verified (${tls.requested})${hop}`;
        return local ?
            ok('tls', detail) :
            warn('tls', `${detail}: whoever sits in between can pose as it`, fix);
    }

    if (tls.mode === 'verify-ca') {
        return ok('tls', `${encrypted}; the server's certificate verified against ${against}, its host name not checked (${tls.requested})${hop}`);
    }

    const verified = `${encrypted}; the server's certificate verified against ${against}, for the host ${host}`;
    if (/^(sslmode|PGSSLMODE)=(prefer|require)$/.test(tls.requested ?? '')) {
        return warn('tls', `${verified} (${tls.requested}, taken as verify-full)${hop}`,
            'write sslmode=verify-full in DATABASE_URL: it says what is checked, and libpq (psql) verifies nothing under require or prefer');
    }

    return ok('tls', `${verified}${tls.requested ? ` (${tls.requested})` : ''}${hop}`);
}
