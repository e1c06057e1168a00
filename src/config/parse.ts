import Package from '../../package.json';
import type { DatabaseConfig } from './database';
import { parseDatabaseConfig } from './database';
import type { Env } from './read';
import { ConfigError, read } from './read';


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
    /** A list create that would give a user more lists than this is refused. */
    maxListsPerUser: number;
    /** Levels of tasks under and including a top-level one. */
    maxTaskDepth: number;
    /** How long the answer to a create with an Idempotency-Key is kept for its retries. */
    idempotencyKeyTtlSec: number;
    /** The most keys one user has remembered at once: past it, a new key makes the oldest be forgotten. */
    maxIdempotencyKeysPerUser: number;
    /** How long a deleted task stays in the trash before it is removed for good. */
    trashRetentionDays: number;
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
    /** V8_SEMI_SPACE_MB: each half of V8's young generation in a server process, in MB (node's --max-semi-space-size). */
    semiSpaceMb: number;
    http: HttpTimeouts;
    database: DatabaseConfig;
    auth: AuthConfig;
    limits: TaskLimits;
    rateLimits: RateLimitConfig;
    corsOrigins: string[];
    stream: StreamConfig;
    /** Strict-Transport-Security's max-age, when the service is to send it (HSTS_MAX_AGE_S); 0: not sent. */
    hstsMaxAgeSec: number;
    logLevel: string;
    version: string;
    /** Where the development secret in use is kept, when BETTER_AUTH_SECRET was not set (see developmentSecret). */
    developmentSecretFile: string | null;
}


/** The whole configuration, every variable read by its declaration and the rules between them checked. */
export function parseConfig(env: Env): Config {

    return {
        ...parseListenConfig(env),
        workers: read(env, 'WEB_CONCURRENCY'),
        semiSpaceMb: read(env, 'V8_SEMI_SPACE_MB'),
        database: parseDatabaseConfig(env),
        auth: parseAuthConfig(env),
        limits: parseTaskLimits(env),
        rateLimits: parseRateLimitConfig(env),
        corsOrigins: read(env, 'CORS_ORIGINS'),
        stream: parseStreamConfig(env),
        hstsMaxAgeSec: read(env, 'HSTS_MAX_AGE_S'),
        logLevel: read(env, 'LOG_LEVEL'),
        version: Package.version,
        developmentSecretFile: null
    };
}


/** The live stream of changes (GET /api/changes/stream). */
export interface StreamConfig {
    heartbeatSec: number;
    maxStreamsPerUser: number;
    catchUpSec: number;
    maxBacklogBytes: number;
    /** DATABASE_LISTEN_URL: where the process listens for changes, when not DATABASE_URL's database connection. */
    listenUrl: string | null;
}


export function parseStreamConfig(env: Env): StreamConfig {

    return {
        heartbeatSec: read(env, 'SSE_HEARTBEAT_S'),
        maxStreamsPerUser: read(env, 'SSE_MAX_STREAMS_PER_USER'),
        catchUpSec: read(env, 'SSE_CATCHUP_S'),
        maxBacklogBytes: read(env, 'SSE_MAX_BACKLOG_KB') * 1024,
        listenUrl: read(env, 'DATABASE_LISTEN_URL')
    };
}


export function parseListenConfig(env: Env): Pick<Config, 'host' | 'port' | 'http'> {

    const headersTimeoutMs = read(env, 'HTTP_HEADERS_TIMEOUT_MS');
    const requestTimeoutMs = read(env, 'HTTP_REQUEST_TIMEOUT_MS');
    if (requestTimeoutMs < headersTimeoutMs) {
        throw new ConfigError('HTTP_REQUEST_TIMEOUT_MS', `(${requestTimeoutMs}) must not be shorter than HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}): the headers are part of the request`);
    }

    return {
        host: read(env, 'HOST'),
        port: read(env, 'PORT'),
        http: {
            headersTimeoutMs,
            requestTimeoutMs,
            keepAliveTimeoutMs: read(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS')
        }
    };
}


export function parseTaskLimits(env: Env): TaskLimits {

    return {
        maxTasksPerUser: read(env, 'MAX_TASKS_PER_USER'),
        maxListsPerUser: read(env, 'MAX_LISTS_PER_USER'),
        maxTaskDepth: read(env, 'MAX_TASK_DEPTH'),
        idempotencyKeyTtlSec: read(env, 'IDEMPOTENCY_KEY_TTL_S'),
        maxIdempotencyKeysPerUser: read(env, 'IDEMPOTENCY_KEYS_PER_USER'),
        trashRetentionDays: read(env, 'TRASH_RETENTION_DAYS')
    };
}


export function parseRateLimitConfig(env: Env): RateLimitConfig {

    return {
        perMinute: read(env, 'RATE_LIMIT_PER_MIN'),
        authFailuresPerMinute: read(env, 'AUTH_FAILURES_PER_MIN'),
        trustedProxies: read(env, 'TRUST_PROXY'),
        redisUrl: read(env, 'RATE_LIMIT_REDIS_URL')
    };
}


export function parseAuthConfig(env: Env): AuthConfig {

    const expected = parseExpectedClaims(env);
    const allowHs256 = read(env, 'JWT_ALLOW_HS256');
    const secret = read(env, 'BETTER_AUTH_SECRET');

    if (!allowHs256 && !expected.jwks) {
        throw new ConfigError('JWT_ALLOW_HS256', 'is false, but neither BETTER_AUTH_URL nor BETTER_AUTH_JWKS_URL is set: no token could be verified');
    }

    if (secret === null && allowHs256) {
        throw new ConfigError('BETTER_AUTH_SECRET', 'is not set: it must hold the secret the frontend signs its tokens with (or set JWT_ALLOW_HS256=false and BETTER_AUTH_URL); only the embedded database outside production makes one of its own');
    }

    return {
        ...expected,
        secret: secret === null ? null : Buffer.from(secret, 'utf8'),
        allowHs256,
        clockSkewSec: read(env, 'JWT_CLOCK_SKEW_S'),
        maxLifetimeSec: parseTokenLifetime(env)
    };
}


/** JWT_MAX_LIFETIME_S: the longest a token may live, which todo-admin mint-token keeps to as well. */
export function parseTokenLifetime(env: Env): number {

    return read(env, 'JWT_MAX_LIFETIME_S');
}


/** JWT_ISSUER / JWT_AUDIENCE, and Better Auth's key set: what a token must say, whatever signs it. */
export function parseExpectedClaims(env: Env): Pick<AuthConfig, 'issuer' | 'audience' | 'jwks'> {

    return {
        issuer: read(env, 'JWT_ISSUER'),
        audience: read(env, 'JWT_AUDIENCE'),
        jwks: parseJwksConfig(env)
    };
}


export function parseJwksConfig(env: Env): JwksConfig | null {

    const base = read(env, 'BETTER_AUTH_URL');
    const explicit = read(env, 'BETTER_AUTH_JWKS_URL');
    if (!base && !explicit) {
        return null;
    }

    const baseUrl = base ? base.replace(/\/+$/, '') : null;
    const maxAgeSec = read(env, 'JWKS_MAX_AGE_S');
    const maxStaleSec = read(env, 'JWKS_MAX_STALE_S');
    if (maxStaleSec < maxAgeSec) {
        throw new ConfigError('JWKS_MAX_STALE_S', `must be at least JWKS_MAX_AGE_S (${maxAgeSec}), not ${maxStaleSec}: keys would expire before their refresh is due`);
    }

    return {
        url: explicit ?? `${baseUrl}/api/auth/jwks`,
        baseUrl,
        refetchIntervalSec: read(env, 'JWKS_REFETCH_INTERVAL_S'),
        maxAgeSec,
        maxStaleSec,
        timeoutMs: read(env, 'JWKS_TIMEOUT_MS')
    };
}
