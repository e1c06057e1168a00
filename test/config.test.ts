import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import { ConfigError, developmentSecret, parseConfig, withDevelopmentSecret } from '../src/config';


const secret = 'a-secret-of-at-least-thirty-two-characters';


test('defaults: localhost:8000, embedded database in ./.data, the frontend on :3000', (t) => {

    const config = parseConfig({ BETTER_AUTH_SECRET: secret });
    t.is(config.host, '127.0.0.1');
    t.is(config.port, 8000);
    t.deepEqual(config.database, { kind: 'pglite', dataDir: Path.resolve('.data'), timeoutMs: 2000, queryTimeoutMs: 5000 });
    t.deepEqual(config.corsOrigins, ['http://localhost:3000']);
    t.is(config.logLevel, 'info');
    t.deepEqual(config.http, { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5000 });
    t.deepEqual(config.auth.secret, Buffer.from(secret, 'utf8'));
    t.is(config.auth.issuer, null);
    t.is(config.auth.audience, null);
    t.deepEqual(config.limits, { maxTasksPerUser: 10_000, maxListsPerUser: 1000, maxTaskDepth: 4, idempotencyKeyTtlSec: 86_400, maxIdempotencyKeysPerUser: 1000, trashRetentionDays: 30 });
});

test('the variables set here together are each read into their place in the config', (t) => {

    const config = parseConfig({
        BETTER_AUTH_SECRET: secret,
        HOST: '0.0.0.0',
        PORT: '9000',
        DATABASE_URL: 'postgresql://app:pw@db.example.com:6543/todo?sslmode=require',
        DB_POOL_MAX: '25',
        DB_PREPARED_STATEMENTS: 'false',
        DB_TIMEOUT_MS: '1500',
        DB_QUERY_TIMEOUT_MS: '3000',
        JWT_ISSUER: 'https://auth.example.com',
        JWT_AUDIENCE: 'todo',
        JWT_CLOCK_SKEW_S: '5',
        CORS_ORIGINS: 'https://a.example.com, https://b.example.com/',
        LOG_LEVEL: 'warn',
        HTTP_HEADERS_TIMEOUT_MS: '2000',
        HTTP_REQUEST_TIMEOUT_MS: '4000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '65000',
        MAX_TASKS_PER_USER: '500',
        MAX_LISTS_PER_USER: '20',
        MAX_TASK_DEPTH: '2',
        IDEMPOTENCY_KEY_TTL_S: '3600',
        IDEMPOTENCY_KEYS_PER_USER: '50',
        TRASH_RETENTION_DAYS: '7',
        JWT_MAX_LIFETIME_S: '3600',
        HSTS_MAX_AGE_S: '31536000',
        RATE_LIMIT_PER_MIN: '120',
        AUTH_FAILURES_PER_MIN: '10',
        TRUST_PROXY: '2',
        RATE_LIMIT_REDIS_URL: 'redis://cache.example.com:6379/2'
    });

    t.is(config.host, '0.0.0.0');
    t.is(config.port, 9000);
    t.deepEqual(config.database, {
        kind: 'postgres',
        url: 'postgresql://app:pw@db.example.com:6543/todo?sslmode=require',
        poolMax: 25,
        preparedStatements: false,
        tls: { mode: 'verify-full', requested: 'sslmode=require', ca: null, client: null },
        timeoutMs: 1500,
        queryTimeoutMs: 3000
    });
    t.like(config.auth, { issuer: 'https://auth.example.com', audience: 'todo', clockSkewSec: 5 });
    t.deepEqual(config.corsOrigins, ['https://a.example.com', 'https://b.example.com']);
    t.is(config.logLevel, 'warn');
    t.deepEqual(config.http, { headersTimeoutMs: 2000, requestTimeoutMs: 4000, keepAliveTimeoutMs: 65_000 });
    t.deepEqual(config.limits, { maxTasksPerUser: 500, maxListsPerUser: 20, maxTaskDepth: 2, idempotencyKeyTtlSec: 3600, maxIdempotencyKeysPerUser: 50, trashRetentionDays: 7 });
    t.is(config.auth.maxLifetimeSec, 3600);
    t.is(config.hstsMaxAgeSec, 31_536_000);
    t.deepEqual(config.rateLimits, { perMinute: 120, authFailuresPerMinute: 10, trustedProxies: 2, redisUrl: 'redis://cache.example.com:6379/2' });
});

test('defaults of the limits: a day-long token at most, 600 requests a minute per user, 60 failed authentications per address', (t) => {

    const config = parseConfig({ BETTER_AUTH_SECRET: secret });
    t.is(config.auth.maxLifetimeSec, 86_400);
    t.is(config.hstsMaxAgeSec, 0);
    t.deepEqual(config.rateLimits, { perMinute: 600, authFailuresPerMinute: 60, trustedProxies: 0, redisUrl: null });
    t.deepEqual(parseConfig({ BETTER_AUTH_SECRET: secret, NODE_ENV: 'production' }).corsOrigins, [], 'in production no origin unless named');
});

test('pglite:// URLs choose the embedded database', (t) => {

    t.like(parseConfig({ BETTER_AUTH_SECRET: secret, DATABASE_URL: 'pglite://memory' }).database, { kind: 'pglite', dataDir: null });
    t.like(parseConfig({ BETTER_AUTH_SECRET: secret, DATABASE_URL: 'pglite://./tmp/db', DB_QUERY_TIMEOUT_MS: '800' }).database, { kind: 'pglite', dataDir: Path.resolve('tmp/db'), queryTimeoutMs: 800 });
});

const refused = test.macro({
    exec(t, env: Record<string, string>, variable: string) {

        const error = t.throws(() => parseConfig({ BETTER_AUTH_SECRET: secret, ...env }), { instanceOf: ConfigError });
        t.true(error!.message.startsWith(`${variable} `), error!.message);
        t.false(error!.message.includes('\n'));
    },
    title: (provided, env) => `refused: ${provided ?? JSON.stringify(env)}`
});

test('no secret', refused, { BETTER_AUTH_SECRET: '' }, 'BETTER_AUTH_SECRET');
test('a short secret', refused, { BETTER_AUTH_SECRET: 'x'.repeat(31) }, 'BETTER_AUTH_SECRET');
test('the example placeholder secret', refused, { BETTER_AUTH_SECRET: 'replace-me-with-at-least-32-random-characters' }, 'BETTER_AUTH_SECRET');
test('a DATABASE_URL that is not a URL', refused, { DATABASE_URL: 'localhost:5432/todo' }, 'DATABASE_URL');
test('a DATABASE_URL of another database', refused, { DATABASE_URL: 'mysql://root@localhost/todo' }, 'DATABASE_URL');
test('pglite:// with nothing after it', refused, { DATABASE_URL: 'pglite://' }, 'DATABASE_URL');
test('a port out of range', refused, { PORT: '70000' }, 'PORT');
test('a port that is not a number', refused, { PORT: 'eighty' }, 'PORT');
test('a request timeout shorter than the headers timeout', refused, { HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' }, 'HTTP_REQUEST_TIMEOUT_MS');
test('a headers timeout that is not a number', refused, { HTTP_HEADERS_TIMEOUT_MS: '10s' }, 'HTTP_HEADERS_TIMEOUT_MS');
test('a query timeout under 100 ms', refused, { DB_QUERY_TIMEOUT_MS: '50' }, 'DB_QUERY_TIMEOUT_MS');
test('a pool of zero', refused, { DATABASE_URL: 'postgres://localhost/todo', DB_POOL_MAX: '0' }, 'DB_POOL_MAX');
test('a task limit of zero', refused, { MAX_TASKS_PER_USER: '0' }, 'MAX_TASKS_PER_USER');
test('a task limit that is not a number', refused, { MAX_TASKS_PER_USER: '10k' }, 'MAX_TASKS_PER_USER');
test('an idempotency key lifetime of zero', refused, { IDEMPOTENCY_KEY_TTL_S: '0' }, 'IDEMPOTENCY_KEY_TTL_S');
test('an idempotency key lifetime over 30 days', refused, { IDEMPOTENCY_KEY_TTL_S: String(31 * 86_400) }, 'IDEMPOTENCY_KEY_TTL_S');
test('an unknown log level', refused, { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL');
test('a wildcard CORS origin', refused, { CORS_ORIGINS: '*' }, 'CORS_ORIGINS');
test('a RATE_LIMIT_REDIS_URL that is not redis://', refused, { RATE_LIMIT_REDIS_URL: 'http://cache.example.com' }, 'RATE_LIMIT_REDIS_URL');
test('a RATE_LIMIT_REDIS_URL that is not a URL', refused, { RATE_LIMIT_REDIS_URL: 'cache:6379' }, 'RATE_LIMIT_REDIS_URL');
test('a negative RATE_LIMIT_PER_MIN', refused, { RATE_LIMIT_PER_MIN: '-1' }, 'RATE_LIMIT_PER_MIN');
test('TRUST_PROXY that is not a count of proxies', refused, { TRUST_PROXY: 'true' }, 'TRUST_PROXY');
test('a JWT_MAX_LIFETIME_S under a minute', refused, { JWT_MAX_LIFETIME_S: '10' }, 'JWT_MAX_LIFETIME_S');
test('no idempotency keys kept at all', refused, { IDEMPOTENCY_KEYS_PER_USER: '0' }, 'IDEMPOTENCY_KEYS_PER_USER');
test('no days in the trash', refused, { TRASH_RETENTION_DAYS: '0' }, 'TRASH_RETENTION_DAYS');
test('a CORS origin with a path', refused, { CORS_ORIGINS: 'https://app.example.com/login' }, 'CORS_ORIGINS');
test('a CORS origin that is not a URL', refused, { CORS_ORIGINS: 'app.example.com' }, 'CORS_ORIGINS');

test('BETTER_AUTH_URL turns on the key set at /api/auth/jwks, with a normalised base URL', (t) => {

    const config = parseConfig({ BETTER_AUTH_SECRET: secret, BETTER_AUTH_URL: 'https://app.example.com///' });
    t.deepEqual(config.auth.jwks, { url: 'https://app.example.com/api/auth/jwks', baseUrl: 'https://app.example.com', refetchIntervalSec: 30, maxAgeSec: 600, maxStaleSec: 86_400, timeoutMs: 3000 });
    t.true(config.auth.allowHs256);
    t.is(config.auth.issuer, null, 'the base URL is the default for Better Auth\'s tokens only, not JWT_ISSUER');

    const explicit = parseConfig({ BETTER_AUTH_SECRET: secret, BETTER_AUTH_JWKS_URL: 'https://auth.example.com/keys', JWKS_REFETCH_INTERVAL_S: '5' });
    t.like(explicit.auth.jwks, { url: 'https://auth.example.com/keys', baseUrl: null, refetchIntervalSec: 5 });

    const both = parseConfig({ BETTER_AUTH_SECRET: secret, BETTER_AUTH_URL: 'https://app.example.com', BETTER_AUTH_JWKS_URL: 'https://keys.example.com/jwks' });
    t.like(both.auth.jwks, { url: 'https://keys.example.com/jwks', baseUrl: 'https://app.example.com' });

    t.is(parseConfig({ BETTER_AUTH_SECRET: secret }).auth.jwks, null);
});

test('JWT_ALLOW_HS256=false needs a key set and no secret', (t) => {

    const config = parseConfig({ JWT_ALLOW_HS256: 'false', BETTER_AUTH_URL: 'https://app.example.com' });
    t.false(config.auth.allowHs256);
    t.is(config.auth.secret, null);
});

test('a JWKS_MAX_STALE_S under JWKS_MAX_AGE_S', refused, { BETTER_AUTH_URL: 'https://app.example.com', JWKS_MAX_AGE_S: '600', JWKS_MAX_STALE_S: '599' }, 'JWKS_MAX_STALE_S');
test('a JWKS_MAX_STALE_S over a week', refused, { BETTER_AUTH_URL: 'https://app.example.com', JWKS_MAX_STALE_S: String(7 * 86_400 + 1) }, 'JWKS_MAX_STALE_S');

test('JWKS_MAX_STALE_S may equal JWKS_MAX_AGE_S', (t) => {

    t.like(parseConfig({ BETTER_AUTH_SECRET: secret, BETTER_AUTH_URL: 'https://app.example.com', JWKS_MAX_AGE_S: '60', JWKS_MAX_STALE_S: '60' }).auth.jwks, { maxAgeSec: 60, maxStaleSec: 60 });
});

test('HS256 off with no key set', refused, { JWT_ALLOW_HS256: 'false' }, 'JWT_ALLOW_HS256');
test('JWT_ALLOW_HS256 that is not a boolean', refused, { JWT_ALLOW_HS256: 'maybe' }, 'JWT_ALLOW_HS256');
test('a BETTER_AUTH_URL that is not http(s)', refused, { BETTER_AUTH_URL: 'ftp://app.example.com' }, 'BETTER_AUTH_URL');
test('a BETTER_AUTH_JWKS_URL that is not a URL', refused, { BETTER_AUTH_JWKS_URL: 'jwks.json' }, 'BETTER_AUTH_JWKS_URL');

test('a development secret only for the embedded database, outside production, when none is set', (t) => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-config-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
    const embedded = { DATABASE_URL: `pglite://${dir}/data` };

    const made = developmentSecret(embedded);
    t.is(made!.file, Path.join(dir, 'data', 'dev-secret'));
    t.is(made!.secret.length, 43);
    t.is(Fs.statSync(made!.file).mode & 0o777, 0o600);
    t.is(Fs.statSync(Path.join(dir, 'data')).mode & 0o777, 0o700);
    t.deepEqual(developmentSecret(embedded), made, 'kept, not made again');

    const { env, developmentSecretFile } = withDevelopmentSecret(embedded);
    t.is(parseConfig(env).auth.secret!.toString('utf8'), made!.secret);
    t.is(developmentSecretFile, made!.file);

    for (const other of [
        { ...embedded, BETTER_AUTH_SECRET: secret },
        { ...embedded, NODE_ENV: 'production' },
        { ...embedded, JWT_ALLOW_HS256: 'false' },
        { DATABASE_URL: 'postgres://db.example.com/todo' },
        { DATABASE_URL: 'pglite://memory' }
    ]) {
        t.is(developmentSecret(other), null, JSON.stringify(other));
        t.deepEqual(withDevelopmentSecret(other), { env: other, developmentSecretFile: null });
    }

    Fs.writeFileSync(made!.file, 'short');
    t.throws(() => developmentSecret(embedded), { instanceOf: ConfigError, message: /the development secret in .* is too short: delete the file/ });
});

test('WEB_CONCURRENCY: one process by default, a number of workers, or auto for every core', (t) => {

    t.is(parseConfig({ BETTER_AUTH_SECRET: secret }).workers, 1);
    t.is(parseConfig({ BETTER_AUTH_SECRET: secret, WEB_CONCURRENCY: '3' }).workers, 3);
    t.is(parseConfig({ BETTER_AUTH_SECRET: secret, WEB_CONCURRENCY: 'auto' }).workers, Os.availableParallelism());
    for (const value of ['0', '-1', '1.5', 'all', '257']) {
        t.throws(() => parseConfig({ BETTER_AUTH_SECRET: secret, WEB_CONCURRENCY: value }), { instanceOf: ConfigError, message: `WEB_CONCURRENCY must be auto or a whole number from 1 to 256, not "${value}"` });
    }
});
