import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Path from 'node:path';

import type { Env } from './read';
import { ConfigError, read } from './read';
import type { variables } from './variables';


/** How long the service waits on its database before answering 503. */
export interface DatabaseTimeouts {
    /** For a connection: a free one from the pool, or a new one to be opened (DB_TIMEOUT_MS). */
    timeoutMs: number;
    /** For the answer to one statement (DB_QUERY_TIMEOUT_MS); 0: no limit, as todo-admin's long batches need. */
    queryTimeoutMs: number;
}


/**
 * How the connection to PostgreSQL is encrypted and what of the server is verified, from DATABASE_URL's sslmode (or
 * PGSSLMODE) and DATABASE_CA_FILE.
 */
export interface DatabaseTls {
    /**
     * disable: no TLS. no-verify: TLS, the server not verified. verify-ca: TLS, the server's certificate chains to
     * the CA. verify-full: that, and the certificate names the host connected to.
     */
    mode: 'disable' | 'no-verify' | 'verify-ca' | 'verify-full';
    /** What asked for it, as written ("sslmode=require", "ssl=true", "PGSSLMODE=verify-full"); null when nothing did. */
    requested: string | null;
    /** The CA certificates (PEM) that verify the server instead of the system's; null: the system's. */
    ca: { from: 'DATABASE_CA_FILE' | 'sslrootcert'; file: string; pem: string } | null;
    /** A certificate for this client and its key (DATABASE_URL's sslcert and sslkey), for a server that asks for one. */
    client: { cert: string; key: string } | null;
}


export type DatabaseConfig =
    // tls: parseDatabaseConfig's reading of the URL and DATABASE_CA_FILE; without it, the URL's sslmode alone.
    // preparedStatements: true when not given.
    | { kind: 'postgres'; url: string; poolMax: number; tls?: DatabaseTls; preparedStatements?: boolean } & DatabaseTimeouts
    | { kind: 'pglite'; dataDir: string | null } & DatabaseTimeouts;     // null: in memory, gone when the process ends


/** Which database DATABASE_URL names, before anything of it is opened or read. */
export type DatabaseLocation =
    | { kind: 'postgres'; url: string; parsed: URL }
    | { kind: 'pglite'; dataDir: string | null };


type SslMode = (typeof variables.PGSSLMODE.values)[number];


const internals = {
    // What each sslmode (DATABASE_URL's or PGSSLMODE's: the same words) means here. prefer and require ask for TLS,
    // which is verified as under verify-full (as pg 8 does, without its warning): encryption to a server nobody
    // checked is encryption to whoever answers. no-verify (pg's own) is TLS with nothing verified. allow is not
    // taken: it falls back to no TLS at all.
    sslModes: {
        disable: 'disable',
        prefer: 'verify-full',
        require: 'verify-full',
        'verify-ca': 'verify-ca',
        'verify-full': 'verify-full',
        'no-verify': 'no-verify'
    } satisfies Record<SslMode, DatabaseTls['mode']> as Record<string, DatabaseTls['mode'] | undefined>,

    // pg's ssl parameter, as the sslmode it stands for.
    sslParameter: { true: 'verify-full', 1: 'verify-full', false: 'disable', 0: 'disable', 'no-verify': 'no-verify' } as Record<string, string>,

    // libpq's meanings, asked for with uselibpqcompat=true: prefer and require verify nothing, or only the chain when a
    // CA is given (pg cannot fall back to no TLS under prefer, so prefer needs TLS too).
    libpqModes(sslmode: string, ca: boolean): DatabaseTls['mode'] | undefined {

        return sslmode === 'prefer' || sslmode === 'require' ? (ca ? 'verify-ca' : 'no-verify') : internals.sslModes[sslmode];
    },

    readFile(variable: string, file: string): string {

        try {
            return Fs.readFileSync(file, 'utf8');
        }
        catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            const reasons: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'a directory' };
            throw new ConfigError(variable, `cannot be read: ${file} (${reasons[code ?? ''] ?? code ?? (err as Error).message})`);
        }
    },

    /** The certificates of a PEM file, each one checked to parse; read once, at start. */
    pemCertificates(variable: string, file: string): string {

        const blocks = internals.readFile(variable, file).match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
        if (!blocks) {
            throw new ConfigError(variable, `is not a PEM file of CA certificates: ${file} holds no -----BEGIN CERTIFICATE----- block (a DER file converts with openssl x509 -inform der -in ${file} -out ca.pem)`);
        }

        for (const [n, block] of blocks.entries()) {
            try {
                new Crypto.X509Certificate(block);
            }
            catch {
                throw new ConfigError(variable, `holds a certificate that does not parse: ${file}, certificate ${n + 1} of ${blocks.length}`);
            }
        }

        return blocks.join('\n') + '\n';
    },

    /** The CA that verifies the server: DATABASE_CA_FILE, or the URL's sslrootcert (its "system": the system's CAs). */
    databaseCa(url: URL, env: Env): DatabaseTls['ca'] {

        const caFile = read(env, 'DATABASE_CA_FILE');
        const rootCert = url.searchParams.get('sslrootcert');
        if (caFile !== null && rootCert !== null) {
            throw new ConfigError('DATABASE_CA_FILE', `and DATABASE_URL's sslrootcert both name the CA (${caFile}, ${rootCert}): keep one`);
        }

        if (caFile !== null) {
            const file = Path.resolve(caFile);
            return { from: 'DATABASE_CA_FILE', file, pem: internals.pemCertificates('DATABASE_CA_FILE', file) };
        }

        if (rootCert !== null && rootCert !== 'system') {
            const file = Path.resolve(rootCert);
            return { from: 'sslrootcert', file, pem: internals.pemCertificates('DATABASE_URL\'s sslrootcert', file) };
        }

        return null;
    },

    /** The URL's sslcert and sslkey, which go together. */
    clientCertificate(url: URL): DatabaseTls['client'] {

        const cert = url.searchParams.get('sslcert');
        const key = url.searchParams.get('sslkey');
        if (cert === null && key === null) {
            return null;
        }

        if (cert === null || key === null) {
            throw new ConfigError('DATABASE_URL', `has ${cert === null ? 'sslkey without sslcert' : 'sslcert without sslkey'}: a client certificate needs both`);
        }

        return {
            cert: internals.readFile('DATABASE_URL\'s sslcert', Path.resolve(cert)),
            key: internals.readFile('DATABASE_URL\'s sslkey', Path.resolve(key))
        };
    }
};


/**
 * DATABASE_URL's forms: postgres:// (or postgresql://) for PostgreSQL; pglite://DIR for the embedded database kept
 * in DIR, pglite://memory for one in memory. Unset, it is its declared default, the embedded database in ./.data.
 */
export function parseDatabaseLocation(env: Env): DatabaseLocation {

    const url = read(env, 'DATABASE_URL');
    if (url.startsWith('pglite://')) {
        const location = url.slice('pglite://'.length);
        if (!location) {
            throw new ConfigError('DATABASE_URL', 'must name a directory after pglite:// (or be pglite://memory)');
        }

        return { kind: 'pglite', dataDir: location === 'memory' ? null : Path.resolve(location) };
    }

    let parsed: URL;
    try {
        parsed = new URL(url);
    }
    catch {
        throw new ConfigError('DATABASE_URL', 'is not a valid URL (expected postgres://user:password@host:5432/database)');
    }

    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
        throw new ConfigError('DATABASE_URL', `must start with postgres:// or postgresql:// (or pglite://), not ${parsed.protocol}//`);
    }

    if (!parsed.hostname) {
        throw new ConfigError('DATABASE_URL', 'has no host name');
    }

    return { kind: 'postgres', url, parsed };
}


export function parseDatabaseConfig(env: Env): DatabaseConfig {

    const timeouts: DatabaseTimeouts = {
        timeoutMs: read(env, 'DB_TIMEOUT_MS'),
        queryTimeoutMs: read(env, 'DB_QUERY_TIMEOUT_MS')
    };

    const location = parseDatabaseLocation(env);
    if (location.kind === 'pglite') {
        return { ...location, ...timeouts };
    }

    return {
        kind: 'postgres',
        url: location.url,
        poolMax: read(env, 'DB_POOL_MAX'),
        preparedStatements: read(env, 'DB_PREPARED_STATEMENTS'),
        tls: parseDatabaseTls(location.parsed, env),
        ...timeouts
    };
}


/**
 * TLS to PostgreSQL: DATABASE_URL's sslmode (else pg's ssl parameter, else PGSSLMODE) says what is verified, and
 * DATABASE_CA_FILE or the URL's sslrootcert which CA verifies it (the system's CAs otherwise). A CA given with no
 * sslmode is verify-full, as a URL with only sslrootcert is to pg. The files are read here, once.
 */
export function parseDatabaseTls(url: URL, env: Env): DatabaseTls {

    const sslmode = url.searchParams.get('sslmode');
    const ssl = url.searchParams.get('ssl');
    const environment = sslmode === null && ssl === null ? read(env, 'PGSSLMODE') : null;
    const [variable, requested, asked] =
        sslmode !== null ? ['DATABASE_URL', `sslmode=${sslmode}`, sslmode] :
            ssl !== null ? ['DATABASE_URL', `ssl=${ssl}`, internals.sslParameter[ssl] ?? `ssl=${ssl}`] :
                environment !== null ? ['PGSSLMODE', `PGSSLMODE=${environment}`, environment] :
                    ['DATABASE_URL', null, null];

    const ca = internals.databaseCa(url, env);
    const client = internals.clientCertificate(url);
    const system = url.searchParams.get('sslrootcert') === 'system';

    if (asked === null) {
        return { mode: ca || client || system ? 'verify-full' : 'disable', requested, ca, client };
    }

    const mode = url.searchParams.get('uselibpqcompat') === 'true' ? internals.libpqModes(asked, ca !== null) : internals.sslModes[asked];
    if (mode === undefined) {
        throw new ConfigError(variable, `has ${requested}, which is not taken here: use sslmode=verify-full (or verify-ca, require, no-verify, disable)`);
    }

    if (mode === 'disable' && (ca || client || system)) {
        throw new ConfigError(variable, `has ${requested}, but ${ca?.from ?? (client ? 'sslcert' : 'sslrootcert')} is set for TLS: use sslmode=verify-full`);
    }

    if (mode === 'verify-ca' && !ca) {
        throw new ConfigError(variable, `has ${requested}, which needs the CA that signed the server's certificate: set DATABASE_CA_FILE to its PEM file (or use sslmode=verify-full with the system's CAs)`);
    }

    return { mode, requested, ca, client };
}
