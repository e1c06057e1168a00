import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import Dotenv from 'dotenv';

import Package from '../package.json';
import { createPrivateFile, NotPrivateError, privateDirectory, readPrivateFile } from './private-files';


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
    | { kind: 'postgres'; url: string; poolMax: number; tls?: DatabaseTls } & DatabaseTimeouts
    | { kind: 'pglite'; dataDir: string | null } & DatabaseTimeouts;     // null: in memory, gone when the process ends


export interface JwksConfig {
    url: string;
    /** Better Auth's base URL, the iss and aud of its tokens (null when only BETTER_AUTH_JWKS_URL is given). */
    baseUrl: string | null;
    /** An unknown kid fetches the key set again at most this often. */
    refetchIntervalSec: number;
    /** Keys older than this are refreshed in the background. */
    maxAgeSec: number;
    /** Keys whose last successful fetch is older than this verify no token until a fetch succeeds (at least maxAgeSec). */
    maxStaleSec: number;
    timeoutMs: number;
}


export interface AuthConfig {
    /** The shared secret's bytes; null when HS256 is turned off and no secret is set. */
    secret: Buffer | null;
    allowHs256: boolean;
    /** JWT_ISSUER / JWT_AUDIENCE: required of every token when set. */
    issuer: string | null;
    audience: string | null;
    clockSkewSec: number;
    /** A token whose exp is further than this ahead of now, or of its iat, is refused (JWT_MAX_LIFETIME_S). */
    maxLifetimeSec: number;
    jwks: JwksConfig | null;
}


/** How long a client may take: slow or idle connections are closed rather than held. */
export interface HttpTimeouts {
    /** The request line and headers must have arrived within this. */
    headersTimeoutMs: number;
    /** The whole request, body included, must have arrived within this; also the longest a socket may sit idle mid-request. */
    requestTimeoutMs: number;
    /** An idle keep-alive connection is closed after this. */
    keepAliveTimeoutMs: number;
}


/** What one user may keep, and how long retries are recognised. */
export interface TaskLimits {
    /** A create that would give a user more tasks than this is refused. */
    maxTasksPerUser: number;
    /** How long the answer to a create with an Idempotency-Key is kept for its retries. */
    idempotencyKeyTtlSec: number;
    /** The most keys one user has remembered at once: past it, a new key makes the oldest be forgotten. */
    maxIdempotencyKeysPerUser: number;
}


/** What one client may spend: requests a minute per user, failed authentications a minute per address. */
export interface RateLimitConfig {
    /** RATE_LIMIT_PER_MIN: requests a minute per user (and per address on the public routes but health); 0: off. */
    perMinute: number;
    /** AUTH_FAILURES_PER_MIN: failed authentications a minute per client address; 0: off. */
    authFailuresPerMinute: number;
    /** TRUST_PROXY: how many proxies in front of the service append to X-Forwarded-For (0: the header is ignored). */
    trustedProxies: number;
    /** RATE_LIMIT_REDIS_URL: the budgets are kept in this Redis, shared by every replica; null: in this process (or its primary). */
    redisUrl: string | null;
}


export interface Config {
    host: string;
    port: number;
    /** How many server processes share the port (WEB_CONCURRENCY): 1 is this process alone. */
    workers: number;
    http: HttpTimeouts;
    database: DatabaseConfig;
    auth: AuthConfig;
    limits: TaskLimits;
    rateLimits: RateLimitConfig;
    corsOrigins: string[];
    /** Strict-Transport-Security's max-age, when the service is to send it (HSTS_MAX_AGE_S); 0: not sent. */
    hstsMaxAgeSec: number;
    logLevel: string;
    version: string;
    /** Where the development secret in use is kept, when BETTER_AUTH_SECRET was not set (see developmentSecret). */
    developmentSecretFile: string | null;
}


/** A secret made for one machine's embedded database, and the file that keeps it. */
export interface DevelopmentSecret {
    secret: string;
    file: string;
}


export class ConfigError extends Error {

    constructor(variable: string, problem: string) {

        super(`${variable} ${problem}`);
        this.name = 'ConfigError';
    }
}


export type Env = Record<string, string | undefined>;


const internals = {
    logLevels: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    minSecretLength: 32,
    developmentSecretFile: 'dev-secret',

    // The placeholder shipped in .env.example: a copied example file must not become a production secret.
    exampleSecret: 'replace-me-with-at-least-32-random-characters',

    text(env: Env, name: string): string | null {

        const value = env[name]?.trim();
        return value ? value : null;
    },

    integer(env: Env, name: string, { min, max, fallback }: { min: number; max: number; fallback: number }): number {

        const raw = internals.text(env, name);
        if (raw === null) {
            return fallback;
        }

        const value = Number(raw);
        if (!/^\d+$/.test(raw) || value < min || value > max) {
            throw new ConfigError(name, `must be a whole number from ${min} to ${max}, not "${raw}"`);
        }

        return value;
    },

    boolean(env: Env, name: string, fallback: boolean): boolean {

        const raw = internals.text(env, name)?.toLowerCase();
        if (raw === undefined || raw === null) {
            return fallback;
        }

        if (['true', '1', 'yes', 'on'].includes(raw)) {
            return true;
        }

        if (['false', '0', 'no', 'off'].includes(raw)) {
            return false;
        }

        throw new ConfigError(name, `must be true or false, not "${raw}"`);
    },

    httpUrl(env: Env, name: string): string | null {

        const raw = internals.text(env, name);
        if (raw === null) {
            return null;
        }

        let parsed: URL;
        try {
            parsed = new URL(raw);
        }
        catch {
            throw new ConfigError(name, `is not a URL: "${raw}"`);
        }

        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
            throw new ConfigError(name, `must be an http(s) URL, not "${raw}"`);
        }

        return raw;
    },

    origins(env: Env): string[] {

        // A frontend on this machine by default, but never in production: there an origin is allowed only by name.
        const raw = internals.text(env, 'CORS_ORIGINS') ?? (internals.text(env, 'NODE_ENV') === 'production' ? '' : 'http://localhost:3000');
        const origins = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
        for (const origin of origins) {
            if (origin === '*') {
                throw new ConfigError('CORS_ORIGINS', 'cannot be *: credentials are allowed, so list each origin');
            }

            let parsed: URL;
            try {
                parsed = new URL(origin);
            }
            catch {
                throw new ConfigError('CORS_ORIGINS', `holds "${origin}", which is not an origin such as https://app.example.com`);
            }

            if (parsed.origin !== origin.replace(/\/$/, '')) {
                throw new ConfigError('CORS_ORIGINS', `holds "${origin}": an origin is scheme, host and port only, with no path`);
            }
        }

        return origins.map((origin) => origin.replace(/\/$/, ''));
    },

    workers(env: Env): number {

        const raw = internals.text(env, 'WEB_CONCURRENCY');
        if (raw?.toLowerCase() === 'auto') {
            return Os.availableParallelism();
        }

        if (raw !== null && (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 256)) {
            throw new ConfigError('WEB_CONCURRENCY', `must be auto or a whole number from 1 to 256, not "${raw}"`);
        }

        return raw === null ? 1 : Number(raw);
    },

    // What each sslmode means here. prefer and require ask for TLS, which is verified as under verify-full (as pg 8
    // does, without its warning): encryption to a server nobody checked is encryption to whoever answers. no-verify
    // (pg's own) is TLS with nothing verified. allow is not taken: it falls back to no TLS at all.
    sslModes: {
        disable: 'disable',
        prefer: 'verify-full',
        require: 'verify-full',
        'verify-ca': 'verify-ca',
        'verify-full': 'verify-full',
        'no-verify': 'no-verify'
    } as Record<string, DatabaseTls['mode']>,

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

        const caFile = internals.text(env, 'DATABASE_CA_FILE');
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
    },

    logLevel(env: Env): string {

        const level = internals.text(env, 'LOG_LEVEL') ?? 'info';
        if (!internals.logLevels.includes(level)) {
            throw new ConfigError('LOG_LEVEL', `must be one of ${internals.logLevels.join(', ')}, not "${level}"`);
        }

        return level;
    }
};


/** Adds `.env` from the working directory (when present) to process.env; real environment variables win. */
export function loadEnvFile(): void {

    Dotenv.config({ quiet: true });
}


/**
 * Where the development secret is kept, when one applies: on a development machine — no BETTER_AUTH_SECRET, HS256
 * on, the embedded database in a directory (no DATABASE_URL, or pglite://DIR), NODE_ENV not production. Null
 * anywhere else: there the secret must be set.
 */
export function developmentSecretFile(env: Env): string | null {

    const url = internals.text(env, 'DATABASE_URL');
    const allowHs256 = internals.text(env, 'JWT_ALLOW_HS256')?.toLowerCase();
    if (internals.text(env, 'BETTER_AUTH_SECRET') !== null ||
        internals.text(env, 'NODE_ENV') === 'production' ||
        ['false', '0', 'no', 'off'].includes(allowHs256 ?? '') ||
        (url !== null && (!url.startsWith('pglite://') || url === 'pglite://memory' || url === 'pglite://'))) {

        return null;
    }

    const dataDir = url === null ? Path.resolve('.data') : Path.resolve(url.slice('pglite://'.length));
    return Path.join(dataDir, internals.developmentSecretFile);
}


/**
 * The development secret (see developmentSecretFile), kept in the data directory (mode 600) and made the first time
 * it is asked for, so that the server and todo-admin share it; null where none applies.
 */
export function developmentSecret(env: Env): DevelopmentSecret | null {

    const file = developmentSecretFile(env);
    if (file === null) {
        return null;
    }

    // Made by this user only, and read only while it is still this user's alone: a secret that someone else could
    // have written would let them sign tokens for any user.
    privateDirectory(Path.dirname(file));
    createPrivateFile(file, Crypto.randomBytes(32).toString('base64url'));
    let secret: string;
    try {
        secret = (readPrivateFile(file) ?? '').trim();
    }
    catch (err) {
        if (err instanceof NotPrivateError) {
            throw new ConfigError('BETTER_AUTH_SECRET', `is not set, and the development secret is refused: ${err.message} (a new one is made on the next start)`);
        }

        throw err;
    }

    if (secret.length < internals.minSecretLength) {
        throw new ConfigError('BETTER_AUTH_SECRET', `is not set, and the development secret in ${file} is too short: delete the file to have a new one made`);
    }

    return { secret, file };
}


/** The environment with BETTER_AUTH_SECRET taken from the development secret when that applies (see developmentSecret). */
export function withDevelopmentSecret(env: Env): { env: Env; developmentSecretFile: string | null } {

    const development = developmentSecret(env);
    return development ?
        { env: { ...env, BETTER_AUTH_SECRET: development.secret }, developmentSecretFile: development.file } :
        { env, developmentSecretFile: null };
}


/**
 * Reads `.env` and parses the environment (with the development secret where that applies).
 */
export function readConfig(): Config {

    loadEnvFile();
    const { env, developmentSecretFile } = withDevelopmentSecret(process.env);
    return { ...parseConfig(env), developmentSecretFile };
}


export function parseConfig(env: Env): Config {

    return {
        ...parseListenConfig(env),
        workers: internals.workers(env),
        database: parseDatabaseConfig(env),
        auth: parseAuthConfig(env),
        limits: parseTaskLimits(env),
        rateLimits: parseRateLimitConfig(env),
        corsOrigins: internals.origins(env),
        hstsMaxAgeSec: internals.integer(env, 'HSTS_MAX_AGE_S', { min: 0, max: 63_072_000, fallback: 0 }),
        logLevel: internals.logLevel(env),
        version: Package.version,
        developmentSecretFile: null
    };
}


export function parseListenConfig(env: Env): Pick<Config, 'host' | 'port' | 'http'> {

    const headersTimeoutMs = internals.integer(env, 'HTTP_HEADERS_TIMEOUT_MS', { min: 100, max: 600_000, fallback: 10_000 });
    const requestTimeoutMs = internals.integer(env, 'HTTP_REQUEST_TIMEOUT_MS', { min: 100, max: 600_000, fallback: 30_000 });
    if (requestTimeoutMs < headersTimeoutMs) {
        throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', `(${requestTimeoutMs}) must not be shorter than HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}): the headers are part of the request`);
    }

    return {
        host: internals.text(env, 'HOST') ?? '127.0.0.1',
        port: internals.integer(env, 'PORT', { min: 0, max: 65535, fallback: 8000 }),
        http: {
            headersTimeoutMs,
            requestTimeoutMs,
            keepAliveTimeoutMs: internals.integer(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', { min: 100, max: 600_000, fallback: 5000 })
        }
    };
}


export function parseTaskLimits(env: Env): TaskLimits {

    return {
        maxTasksPerUser: internals.integer(env, 'MAX_TASKS_PER_USER', { min: 1, max: 10_000_000, fallback: 10_000 }),
        idempotencyKeyTtlSec: internals.integer(env, 'IDEMPOTENCY_KEY_TTL_S', { min: 1, max: 30 * 86_400, fallback: 86_400 }),
        maxIdempotencyKeysPerUser: internals.integer(env, 'IDEMPOTENCY_KEYS_PER_USER', { min: 1, max: 1_000_000, fallback: 1000 })
    };
}


export function parseRateLimitConfig(env: Env): RateLimitConfig {

    const redisUrl = internals.text(env, 'RATE_LIMIT_REDIS_URL');
    if (redisUrl !== null) {
        let parsed: URL | null = null;
        try {
            parsed = new URL(redisUrl);
        }
        catch {
            // Reported below.
        }

        if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
            throw new ConfigError('RATE_LIMIT_REDIS_URL', `must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379, not "${redisUrl}"`);
        }
    }

    return {
        perMinute: internals.integer(env, 'RATE_LIMIT_PER_MIN', { min: 0, max: 1_000_000, fallback: 600 }),
        authFailuresPerMinute: internals.integer(env, 'AUTH_FAILURES_PER_MIN', { min: 0, max: 1_000_000, fallback: 60 }),
        trustedProxies: internals.integer(env, 'TRUST_PROXY', { min: 0, max: 10, fallback: 0 }),
        redisUrl
    };
}


export function parseDatabaseConfig(env: Env): DatabaseConfig {

    const timeouts: DatabaseTimeouts = {
        timeoutMs: internals.integer(env, 'DB_TIMEOUT_MS', { min: 100, max: 60_000, fallback: 2000 }),
        queryTimeoutMs: internals.integer(env, 'DB_QUERY_TIMEOUT_MS', { min: 100, max: 600_000, fallback: 5000 })
    };

    const url = internals.text(env, 'DATABASE_URL');
    if (url === null) {
        return { kind: 'pglite', dataDir: Path.resolve('.data'), ...timeouts };
    }

    if (url.startsWith('pglite://')) {
        const location = url.slice('pglite://'.length);
        if (!location) {
            throw new ConfigError('DATABASE_URL', 'must name a directory after pglite:// (or be pglite://memory)');
        }

        return { kind: 'pglite', dataDir: location === 'memory' ? null : Path.resolve(location), ...timeouts };
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

    return {
        kind: 'postgres',
        url,
        poolMax: internals.integer(env, 'DB_POOL_MAX', { min: 1, max: 1000, fallback: 10 }),
        tls: parseDatabaseTls(parsed, env),
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
    const environment = internals.text(env, 'PGSSLMODE');
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


export function parseAuthConfig(env: Env): AuthConfig {

    const expected = parseExpectedClaims(env);
    const allowHs256 = internals.boolean(env, 'JWT_ALLOW_HS256', true);
    const secret = internals.text(env, 'BETTER_AUTH_SECRET');

    if (!allowHs256 && !expected.jwks) {
        throw new ConfigError('JWT_ALLOW_HS256', 'is false, but neither BETTER_AUTH_URL nor BETTER_AUTH_JWKS_URL is set: no token could be verified');
    }

    if (secret === null && allowHs256) {
        throw new ConfigError('BETTER_AUTH_SECRET', 'is not set: it must hold the secret the frontend signs its tokens with (or set JWT_ALLOW_HS256=false and BETTER_AUTH_URL); only the embedded database outside production makes one of its own');
    }

    if (secret !== null && secret.length < internals.minSecretLength) {
        throw new ConfigError('BETTER_AUTH_SECRET', `is too short: it needs at least ${internals.minSecretLength} characters`);
    }

    if (secret === internals.exampleSecret) {
        throw new ConfigError('BETTER_AUTH_SECRET', 'still holds the placeholder from .env.example: set a real secret');
    }

    return {
        ...expected,
        secret: secret === null ? null : Buffer.from(secret, 'utf8'),
        allowHs256,
        clockSkewSec: internals.integer(env, 'JWT_CLOCK_SKEW_S', { min: 0, max: 600, fallback: 30 }),
        maxLifetimeSec: parseTokenLifetime(env)
    };
}


/** JWT_MAX_LIFETIME_S: the longest a token may live, which todo-admin mint-token keeps to as well. */
export function parseTokenLifetime(env: Env): number {

    return internals.integer(env, 'JWT_MAX_LIFETIME_S', { min: 60, max: 31_536_000, fallback: 86_400 });
}


/** JWT_ISSUER / JWT_AUDIENCE, and Better Auth's key set: what a token must say, whatever signs it. */
export function parseExpectedClaims(env: Env): Pick<AuthConfig, 'issuer' | 'audience' | 'jwks'> {

    return {
        issuer: internals.text(env, 'JWT_ISSUER'),
        audience: internals.text(env, 'JWT_AUDIENCE'),
        jwks: parseJwksConfig(env)
    };
}


export function parseJwksConfig(env: Env): JwksConfig | null {

    const base = internals.httpUrl(env, 'BETTER_AUTH_URL');
    const explicit = internals.httpUrl(env, 'BETTER_AUTH_JWKS_URL');
    if (!base && !explicit) {
        return null;
    }

    const baseUrl = base ? base.replace(/\/+$/, '') : null;
    const maxAgeSec = internals.integer(env, 'JWKS_MAX_AGE_S', { min: 10, max: 86_400, fallback: 600 });
    const maxStaleSec = internals.integer(env, 'JWKS_MAX_STALE_S', { min: 10, max: 7 * 86_400, fallback: 86_400 });
    if (maxStaleSec < maxAgeSec) {
        throw new ConfigError('JWKS_MAX_STALE_S', `must be at least JWKS_MAX_AGE_S (${maxAgeSec}), not ${maxStaleSec}: keys would expire before their refresh is due`);
    }

    return {
        url: explicit ?? `${baseUrl}/api/auth/jwks`,
        baseUrl,
        refetchIntervalSec: internals.integer(env, 'JWKS_REFETCH_INTERVAL_S', { min: 1, max: 3600, fallback: 30 }),
        maxAgeSec,
        maxStaleSec,
        timeoutMs: internals.integer(env, 'JWKS_TIMEOUT_MS', { min: 100, max: 60_000, fallback: 3000 })
    };
}
