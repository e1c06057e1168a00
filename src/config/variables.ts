/**
 * Every environment variable the service and todo-admin read, declared once: its kind, default, range and
 * meaning. The parser reads a variable by this declaration alone (read.ts), and docs/configuration.md, the
 * README's table and .env.example are generated from it (npm run gen:config; npm test checks they are current).
 */


/** The sections of the reference, in its order. */
export const groups = {
    server: 'Server',
    database: 'Database',
    tls: 'Database TLS',
    auth: 'Authentication',
    keySet: 'Better Auth\'s key set',
    limits: 'Limits',
    rateLimits: 'Rate limits',
    stream: 'Live updates',
    logging: 'Logging'
} as const;


export type Group = keyof typeof groups;


interface Described {
    group: Group;
    /** One or two sentences, Markdown with `code` only: the reference, the README and .env.example all show it. */
    meaning: string;
    /** What leaving it unset means, in words: alone where there is no default, after the default where it needs one. */
    unset?: string;
    /** Shown in .env.example instead of the default, where the default is not what one would write. */
    example?: string;
    /** When it must be set; such variables come first in .env.example. */
    required?: string;
    /** One of the few settings most deployments set, listed in the README too. */
    key?: true;
}


export type Variable = Described & (
    | { kind: 'integer'; min: number; max: number; default: number; auto?: 'cores' }        // auto: one per core
    | { kind: 'boolean'; default: boolean }
    | { kind: 'enum'; values: readonly string[]; default: string | null }
    | { kind: 'text'; default: string | null }
    | { kind: 'secret'; default: null; minLength: number; placeholder: string }              // placeholder: refused
    | { kind: 'url'; default: null; protocols: readonly string[]; example: string }
    | { kind: 'origins'; default: string; productionDefault: string }                       // comma-separated
    | { kind: 'database-url'; default: string }                                             // forms: database.ts
    | { kind: 'file'; default: null }
);


export const variables = {

    // Server

    NODE_ENV: {
        group: 'server', kind: 'text', default: null, key: true, example: 'production',
        meaning: '`production`: no development secret, ever (`BETTER_AUTH_SECRET` must be set), no CORS origin unless named, and `todo-admin mint-token` only with `--allow-production`.'
    },
    HOST: {
        group: 'server', kind: 'text', default: '127.0.0.1', key: true,
        meaning: 'Address to listen on (`0.0.0.0` in a container).'
    },
    PORT: {
        group: 'server', kind: 'integer', min: 0, max: 65_535, default: 8000, key: true,
        meaning: 'Port to listen on.'
    },
    WEB_CONCURRENCY: {
        group: 'server', kind: 'integer', min: 1, max: 256, default: 1, auto: 'cores',
        meaning: 'Server processes sharing the port: `N` workers (node:cluster), or `auto` for one per core. The primary replaces a worker that dies (and logs it), and on SIGTERM stops every worker gracefully before it exits. Each worker has its own pool: PostgreSQL sees up to `WEB_CONCURRENCY` × `DB_POOL_MAX` connections. On the embedded database the primary owns the directory and the workers reach it through its socket.'
    },
    V8_SEMI_SPACE_MB: {
        group: 'server', kind: 'integer', min: 1, max: 256, default: 16,
        meaning: 'Megabytes of each half of V8\'s young generation in each server process (node\'s `--max-semi-space-size`), where the objects of the requests in flight live: a larger one is collected less often, for less CPU per request and more memory (after a minute of 100 connections of mixed load, one process\'s peak was 144 MB at `16` and 200 MB at `64`: see docs/performance.md). Node takes it when it starts: `npm start` passes it on, and so does the primary to its workers; a value only in `.env` reaches the workers, not a server without them.'
    },
    HTTP_HEADERS_TIMEOUT_MS: {
        group: 'server', kind: 'integer', min: 100, max: 600_000, default: 10_000,
        meaning: 'The request line and headers must arrive within this; a slower client gets 408 and is disconnected.'
    },
    HTTP_REQUEST_TIMEOUT_MS: {
        group: 'server', kind: 'integer', min: 100, max: 600_000, default: 30_000,
        meaning: 'The whole request, body included, must arrive within this (408); also how long a connection may sit idle in the middle of a request. At least `HTTP_HEADERS_TIMEOUT_MS`.'
    },
    HTTP_KEEP_ALIVE_TIMEOUT_MS: {
        group: 'server', kind: 'integer', min: 100, max: 600_000, default: 5000,
        meaning: 'An idle keep-alive connection is closed after this (set it above the idle timeout of a load balancer in front).'
    },
    CORS_ORIGINS: {
        group: 'server', kind: 'origins', default: 'http://localhost:3000', productionDefault: '', key: true, example: 'https://app.example.com',
        meaning: 'Comma-separated browser origins allowed to call the API (with credentials; no `*`). In production an origin is allowed only when named here.'
    },
    HSTS_MAX_AGE_S: {
        group: 'server', kind: 'integer', min: 0, max: 63_072_000, default: 0,
        meaning: 'HSTS belongs to the TLS proxy in front of the service; set this to have the service send `Strict-Transport-Security: max-age=N` itself. `0`: not sent.'
    },

    // Database

    DATABASE_URL: {
        group: 'database', kind: 'database-url', default: 'pglite://.data', unset: 'the embedded database in `./.data/`', key: true, example: 'postgres://user:password@db.example.com:5432/todo?sslmode=verify-full',
        meaning: '`postgres://user:password@host:5432/db` (add `?sslmode=verify-full` for Neon and most hosted PostgreSQL: see "TLS to PostgreSQL" in docs/configuration.md). `pglite://memory` for a throwaway embedded database, `pglite://DIR` for one kept in DIR.'
    },
    DB_POOL_MAX: {
        group: 'database', kind: 'integer', min: 1, max: 1000, default: 10,
        meaning: 'Most connections to PostgreSQL.'
    },
    DB_PREPARED_STATEMENTS: {
        group: 'database', kind: 'boolean', default: true,
        meaning: 'Prepare the service\'s statements by name on each connection, so PostgreSQL parses and plans each once. Set `false` behind a transaction pooler that does not follow prepared statements, such as PgBouncer before 1.21 (or 1.21+ without `max_prepared_statements`).'
    },
    DB_TIMEOUT_MS: {
        group: 'database', kind: 'integer', min: 100, max: 60_000, default: 2000,
        meaning: 'How long a request waits for a database connection (a free one from the pool, or a new one being opened) before answering 503.'
    },
    DB_QUERY_TIMEOUT_MS: {
        group: 'database', kind: 'integer', min: 100, max: 600_000, default: 5000,
        meaning: 'How long a request waits for the answer to one statement before answering 503 (a stalled network, a hung or overloaded server); the connection is then closed, never reused. One clock looks at the statements in flight every eighth of this, at most every 250 ms, so a statement fails up to that much later. todo-admin\'s commands have no such limit.'
    },

    // Database TLS

    DATABASE_CA_FILE: {
        group: 'tls', kind: 'file', default: null, unset: 'the system\'s CAs', example: '/etc/ssl/rds-global-bundle.pem',
        meaning: 'A PEM file of the CA certificate(s) that signed PostgreSQL\'s certificate (RDS\'s bundle, a company CA), trusted for the database connection instead of the system\'s. Read once at start; a file that cannot be read or holds no certificate stops the start.'
    },
    PGSSLMODE: {
        group: 'tls', kind: 'enum', values: ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'], default: null, example: 'verify-full',
        meaning: 'The `sslmode` of a `DATABASE_URL` that names none (libpq\'s variable, read the same way).'
    },

    // Authentication

    BETTER_AUTH_SECRET: {
        group: 'auth', kind: 'secret', default: null, minLength: 32, placeholder: 'replace-me-with-at-least-32-random-characters', key: true,
        required: 'while HS256 is on, except on the embedded database outside production',
        unset: 'required while HS256 is on; on the embedded database outside production, a development secret kept in the data directory',
        meaning: 'The secret the frontend signs its HS256 tokens with. Generate one with `openssl rand -base64 32`.'
    },
    JWT_ALLOW_HS256: {
        group: 'auth', kind: 'boolean', default: true,
        meaning: 'Accept HS256 tokens signed with `BETTER_AUTH_SECRET`. `false`: trust Better Auth\'s key set only (then the secret is not needed, and `BETTER_AUTH_URL` or `BETTER_AUTH_JWKS_URL` is).'
    },
    JWT_ISSUER: {
        group: 'auth', kind: 'text', default: null, example: 'https://app.example.com',
        meaning: 'When set, every token must carry this `iss` (Better Auth\'s tokens default to `BETTER_AUTH_URL`).'
    },
    JWT_AUDIENCE: {
        group: 'auth', kind: 'text', default: null, example: 'https://api.example.com',
        meaning: 'When set, every token must carry this in `aud` (Better Auth\'s tokens default to `BETTER_AUTH_URL`).'
    },
    JWT_CLOCK_SKEW_S: {
        group: 'auth', kind: 'integer', min: 0, max: 600, default: 30,
        meaning: 'Seconds of clock difference tolerated on `exp`, `nbf` and `iat`.'
    },
    JWT_MAX_LIFETIME_S: {
        group: 'auth', kind: 'integer', min: 60, max: 31_536_000, default: 86_400,
        meaning: 'The longest a token may live: one whose `exp` is further than this ahead of now (plus the skew) or of its own `iat` is refused; `todo-admin mint-token` mints no longer.'
    },

    // Better Auth's key set

    BETTER_AUTH_URL: {
        group: 'keySet', kind: 'url', default: null, protocols: ['http:', 'https:'], example: 'https://app.example.com', key: true,
        meaning: 'Better Auth\'s base URL: accept its own tokens, verified with the keys at `<BETTER_AUTH_URL>/api/auth/jwks`.'
    },
    BETTER_AUTH_JWKS_URL: {
        group: 'keySet', kind: 'url', default: null, protocols: ['http:', 'https:'], example: 'https://auth.example.com/api/auth/jwks', unset: '`<BETTER_AUTH_URL>/api/auth/jwks`',
        meaning: 'The key set\'s address, when it is not `<BETTER_AUTH_URL>/api/auth/jwks`.'
    },
    JWKS_REFETCH_INTERVAL_S: {
        group: 'keySet', kind: 'integer', min: 1, max: 3600, default: 30,
        meaning: 'An unknown `kid` fetches the key set again at most this often.'
    },
    JWKS_MAX_AGE_S: {
        group: 'keySet', kind: 'integer', min: 10, max: 86_400, default: 600,
        meaning: 'Keys older than this are refreshed in the background (picks up revoked keys).'
    },
    JWKS_MAX_STALE_S: {
        group: 'keySet', kind: 'integer', min: 10, max: 604_800, default: 86_400,
        meaning: 'Keys whose last successful fetch is older than this verify no token (remembered ones included) until a fetch succeeds. At least `JWKS_MAX_AGE_S`.'
    },
    JWKS_TIMEOUT_MS: {
        group: 'keySet', kind: 'integer', min: 100, max: 60_000, default: 3000,
        meaning: 'How long one fetch of the key set may take.'
    },

    // Limits

    MAX_TASKS_PER_USER: {
        group: 'limits', kind: 'integer', min: 1, max: 10_000_000, default: 10_000,
        meaning: 'Most tasks one user can hold; a create beyond it is refused with 409 (a burst of concurrent creates can pass it by up to `DB_POOL_MAX` - 1 per instance).'
    },
    MAX_LISTS_PER_USER: {
        group: 'limits', kind: 'integer', min: 1, max: 100_000, default: 1000,
        meaning: 'Most lists one user can hold; a create beyond it is refused with 409.'
    },
    MAX_TASK_DEPTH: {
        group: 'limits', kind: 'integer', min: 1, max: 16, default: 4,
        meaning: 'Levels of tasks: 1 allows no subtasks; 4 a task, its subtasks, theirs and theirs. A create or move that would go deeper is refused with 409.'
    },
    IDEMPOTENCY_KEY_TTL_S: {
        group: 'limits', kind: 'integer', min: 1, max: 2_592_000, default: 86_400,
        meaning: 'How long (seconds) the answer to a create with an `Idempotency-Key` is kept for its retries (at most 30 days).'
    },
    IDEMPOTENCY_KEYS_PER_USER: {
        group: 'limits', kind: 'integer', min: 1, max: 1_000_000, default: 1000,
        meaning: 'The most keys one user has remembered at once: recording one more forgets that user\'s oldest.'
    },
    TRASH_RETENTION_DAYS: {
        group: 'limits', kind: 'integer', min: 1, max: 3650, default: 30,
        meaning: 'Days a deleted task stays in the trash, restorable, before it is removed for good (by later deletes, with no scheduler, or by `todo-admin trash purge`). Deletions are remembered for the change feed as long: a client whose cursor is older syncs again from the start.'
    },

    // Rate limits

    RATE_LIMIT_PER_MIN: {
        group: 'rateLimits', kind: 'integer', min: 0, max: 1_000_000, default: 600,
        meaning: 'Requests a minute one user may make (and one client address on the public routes); past it 429. Not the health probes. `0`: off.'
    },
    AUTH_FAILURES_PER_MIN: {
        group: 'rateLimits', kind: 'integer', min: 0, max: 1_000_000, default: 60,
        meaning: 'Failed authentications a minute from one client address; past it 429 for any token the address has not used successfully before. `0`: off.'
    },
    TRUST_PROXY: {
        group: 'rateLimits', kind: 'integer', min: 0, max: 10, default: 0,
        meaning: 'How many proxies in front of the service append to `X-Forwarded-For` (a load balancer: `1`). `0`: the header is ignored and the client is the connection\'s address.'
    },
    RATE_LIMIT_REDIS_URL: {
        group: 'rateLimits', kind: 'url', default: null, protocols: ['redis:', 'rediss:'], example: 'redis://127.0.0.1:6379',
        meaning: 'The budgets are kept in this Redis and shared by every replica. Unset: in the process, or with `WEB_CONCURRENCY` in the primary, shared by its workers.'
    },

    // Live updates

    DATABASE_LISTEN_URL: {
        group: 'stream', kind: 'url', default: null, protocols: ['postgres:', 'postgresql:'], example: 'postgres://user:password@db.example.com:5432/todo?sslmode=verify-full', unset: 'the connection `DATABASE_URL` names',
        meaning: 'A direct connection to PostgreSQL (not through a transaction pooler such as PgBouncer, where `LISTEN` does not work) for the one connection per server process that listens for changes, so that the live stream learns of them at once. Same forms as `DATABASE_URL`. Without a working listen, streams still receive every change, every `SSE_CATCHUP_S` seconds.'
    },
    SSE_HEARTBEAT_S: {
        group: 'stream', kind: 'integer', min: 1, max: 3600, default: 20,
        meaning: 'A live stream (`GET /api/changes/stream`) sends a comment line at least this often, so that proxies do not close it as idle.'
    },
    SSE_MAX_STREAMS_PER_USER: {
        group: 'stream', kind: 'integer', min: 1, max: 10_000, default: 10,
        meaning: 'Most live streams one user may have open on one server process (`WEB_CONCURRENCY` workers: on each); one more answers 429.'
    },
    SSE_CATCHUP_S: {
        group: 'stream', kind: 'integer', min: 1, max: 3600, default: 5,
        meaning: 'Each live stream also reads the feed this often, so that a notification lost (a dropped listening connection, a pooler) delays a change by at most this, never loses it. On the embedded database, where there is no listening connection, a process looks for new changes of its streams\' users every 200 ms instead.'
    },
    SSE_MAX_BACKLOG_KB: {
        group: 'stream', kind: 'integer', min: 16, max: 1_048_576, default: 1024,
        meaning: 'A live stream whose client reads so slowly that this much is waiting to be sent to it is closed; the client reconnects with its last event id and misses nothing.'
    },

    // Logging

    LOG_LEVEL: {
        group: 'logging', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info',
        meaning: 'The least severe level that is logged (`silent`: nothing).'
    }
} as const satisfies Record<string, Variable>;


export type Name = keyof typeof variables;
