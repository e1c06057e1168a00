import Path from 'node:path';

import Dotenv from 'dotenv';

import Package from '../package.json';


export type DatabaseConfig =
    | { kind: 'postgres'; url: string; poolMax: number; timeoutMs: number }
    | { kind: 'pglite'; dataDir: string | null };     // null: in memory, gone when the process ends


export interface JwksConfig {
    url: string;
    /** Better Auth's base URL, the iss and aud of its tokens (null when only BETTER_AUTH_JWKS_URL is given). */
    baseUrl: string | null;
    /** An unknown kid fetches the key set again at most this often. */
    refetchIntervalSec: number;
    /** Keys older than this are refreshed in the background. */
    maxAgeSec: number;
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
}


export interface Config {
    host: string;
    port: number;
    http: HttpTimeouts;
    database: DatabaseConfig;
    auth: AuthConfig;
    limits: TaskLimits;
    corsOrigins: string[];
    logLevel: string;
    version: string;
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

        const raw = internals.text(env, 'CORS_ORIGINS') ?? 'http://localhost:3000';
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
 * Reads `.env` and parses the environment.
 */
export function readConfig(): Config {

    loadEnvFile();
    return parseConfig(process.env);
}


export function parseConfig(env: Env): Config {

    return {
        ...parseListenConfig(env),
        database: parseDatabaseConfig(env),
        auth: parseAuthConfig(env),
        limits: parseTaskLimits(env),
        corsOrigins: internals.origins(env),
        logLevel: internals.logLevel(env),
        version: Package.version
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
        idempotencyKeyTtlSec: internals.integer(env, 'IDEMPOTENCY_KEY_TTL_S', { min: 1, max: 30 * 86_400, fallback: 86_400 })
    };
}


export function parseDatabaseConfig(env: Env): DatabaseConfig {

    const url = internals.text(env, 'DATABASE_URL');
    if (url === null) {
        return { kind: 'pglite', dataDir: Path.resolve('.data') };
    }

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

    return {
        kind: 'postgres',
        url,
        poolMax: internals.integer(env, 'DB_POOL_MAX', { min: 1, max: 1000, fallback: 10 }),
        timeoutMs: internals.integer(env, 'DB_TIMEOUT_MS', { min: 100, max: 60_000, fallback: 2000 })
    };
}


export function parseAuthConfig(env: Env): AuthConfig {

    const expected = parseExpectedClaims(env);
    const allowHs256 = internals.boolean(env, 'JWT_ALLOW_HS256', true);
    const secret = internals.text(env, 'BETTER_AUTH_SECRET');

    if (!allowHs256 && !expected.jwks) {
        throw new ConfigError('JWT_ALLOW_HS256', 'is false, but neither BETTER_AUTH_URL nor BETTER_AUTH_JWKS_URL is set: no token could be verified');
    }

    if (secret === null && allowHs256) {
        throw new ConfigError('BETTER_AUTH_SECRET', 'is not set: it must hold the secret the frontend signs its tokens with (or set JWT_ALLOW_HS256=false and BETTER_AUTH_URL)');
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
        clockSkewSec: internals.integer(env, 'JWT_CLOCK_SKEW_S', { min: 0, max: 600, fallback: 30 })
    };
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
    return {
        url: explicit ?? `${baseUrl}/api/auth/jwks`,
        baseUrl,
        refetchIntervalSec: internals.integer(env, 'JWKS_REFETCH_INTERVAL_S', { min: 1, max: 3600, fallback: 30 }),
        maxAgeSec: internals.integer(env, 'JWKS_MAX_AGE_S', { min: 10, max: 86_400, fallback: 600 }),
        timeoutMs: internals.integer(env, 'JWKS_TIMEOUT_MS', { min: 100, max: 60_000, fallback: 3000 })
    };
}
