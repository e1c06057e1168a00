import type { Command } from 'commander';

import type { Config, DatabaseConfig, DatabaseTls, Env } from '../../src/config';
import { ConfigError, developmentSecretFile, isProduction, parseConfig, variables } from '../../src/config';
import { JwksFetchError, fetchJwks, minRsaModulusBits } from '../../src/auth/jwks';
import type { ConnectionSecurity, Database } from '../../src/data/connection';
import { isDatabaseUnavailable } from '../../src/data/errors';
import { DatabaseTlsError, postgresConnection } from '../../src/data/postgres-tls';
import type { ServerTls } from '../../src/data/diagnostics';
import { databaseFacts, roundTripMs, serverTls } from '../../src/data/diagnostics';
import { probeBudgetStore } from '../../src/rate-limits/budgets';
import { embeddedOwner } from '../../src/data/embedded';
import { withDatabase } from '../database';
import type { Io } from '../io';
import { exitCodes } from '../io';


type Verdict = 'ok' | 'warn' | 'fail';


export interface Check {
    check: string;
    status: Verdict;
    detail: string;
    /** What to do about a warn or a fail. */
    fix?: string;
}


const internals = {
    // A secret made of 32 random bytes is 43 characters in base64; fewer distinct characters than this is a pattern.
    strongSecretLength: 43,
    minDistinctCharacters: 16,
    // Past this share of the server's client connections, one more deploy or a migration can find none left.
    poolWarnShare: 0.8,
    jwksTimeoutMs: 3000,
    poolerHosts: /-pooler\.|pooler\.supabase\.com$|\.pooler\./i,
    // A database on this machine: what crosses to it never leaves it.
    localHosts: /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\]|\/.*)?$/i,

    ok: (check: string, detail: string): Check => ({ check, status: 'ok', detail }),
    warn: (check: string, detail: string, fix: string): Check => ({ check, status: 'warn', detail, fix }),
    fail: (check: string, detail: string, fix: string): Check => ({ check, status: 'fail', detail, fix }),

    secret(config: Config, env: Env): Check {

        const devFile = developmentSecretFile(env);
        if (!config.auth.allowHs256) {
            return internals.ok('secret', 'HS256 is off: tokens are verified with the key set only');
        }

        if (devFile) {
            return internals.warn('secret', `BETTER_AUTH_SECRET is not set: the server uses the development secret in ${devFile}`,
                'set BETTER_AUTH_SECRET to the frontend\'s secret for the frontend\'s tokens (a development secret is never used in production)');
        }

        const secret = config.auth.secret!.toString('utf8');
        const distinct = new Set(secret).size;
        if (secret.length < internals.strongSecretLength || distinct < internals.minDistinctCharacters) {
            return internals.warn('secret', `BETTER_AUTH_SECRET is ${secret.length} characters, ${distinct} of them different: guessable`,
                'use 32 random bytes, e.g. openssl rand -base64 32, in the frontend and here');
        }

        return internals.ok('secret', `BETTER_AUTH_SECRET is ${secret.length} characters`);
    },

    /** RFC 8725 §3.9: a token signed with the shared secret for another of the frontend's purposes is not ours. */
    audience(config: Config, env: Env): Check {

        const bound = [config.auth.audience && `aud ${config.auth.audience}`, config.auth.issuer && `iss ${config.auth.issuer}`].filter(Boolean);
        if (bound.length) {
            return internals.ok('audience', `every token must carry ${bound.join(' and ')}`);
        }

        if (config.auth.allowHs256 && isProduction(env)) {
            return internals.warn('audience', 'HS256 is on with neither JWT_AUDIENCE nor JWT_ISSUER: any token signed with BETTER_AUTH_SECRET, for whatever purpose, is taken',
                'sign aud (and iss) into the frontend\'s tokens for this API and set JWT_AUDIENCE (and JWT_ISSUER) to match');
        }

        return internals.ok('audience', config.auth.allowHs256 ? 'no aud or iss required of HS256 tokens' : 'key-set tokens must carry Better Auth\'s iss and aud');
    },

    listen(config: Config, env: Env): Check {

        const all = config.host === '0.0.0.0' || config.host === '::';
        if (!all && isProduction(env) && /^(127\.|localhost$|::1$)/.test(config.host)) {
            return internals.warn('listen', `HOST=${config.host}: only this machine can connect`,
                'in a container or behind a proxy on another host, set HOST=0.0.0.0');
        }

        return internals.ok('listen', `${config.host}:${config.port}${all ? ' (every interface)' : ''}, ${config.workers} process${config.workers > 1 ? 'es' : ''}`);
    },

    cors(config: Config, env: Env): Check {

        if (isProduction(env)) {
            const local = config.corsOrigins.filter((origin) => /^https?:\/\/(localhost|127\.|\[::1\])/.test(origin));
            if (local.length) {
                return internals.warn('cors', `NODE_ENV=production allows development origins: ${local.join(', ')}`, 'set CORS_ORIGINS to the frontend\'s origin(s)');
            }

            const plain = config.corsOrigins.filter((origin) => origin.startsWith('http://'));
            if (plain.length) {
                return internals.warn('cors', `origins without TLS: ${plain.join(', ')}`, 'serve the frontend over https and list its https:// origin');
            }
        }

        return config.corsOrigins.length ?
            internals.ok('cors', `browsers may call from ${config.corsOrigins.join(', ')}`) :
            internals.warn('cors', 'CORS_ORIGINS lists no origin: no browser frontend can call the API', 'set CORS_ORIGINS to the frontend\'s origin');
    },

    async database(config: Config, db: Database, description: string): Promise<Check[]> {

        let ms: number;
        let facts;
        try {
            ms = await roundTripMs(db);
            facts = await databaseFacts(db);
        }
        catch (err) {
            return [err instanceof DatabaseTlsError ?
                internals.fail('database', `${description}: ${err.problem}`, err.fix) :
                internals.fail('database', `${description} cannot be reached: ${internals.reason(err)}`, 'check DATABASE_URL, and that the database accepts connections from here')];
        }

        const product = facts.version.split(' on ')[0].split(',')[0];
        const checks = [internals.ok('database', `${description}: ${product}, round trip ${ms.toFixed(1)} ms`)];
        checks.push(await internals.migrations(db));

        if (config.database.kind === 'pglite') {
            const owner = config.database.dataDir ? embeddedOwner(config.database.dataDir) : null;
            checks.push(internals.ok('pool', owner?.role === 'todo-api' ? `embedded: reached through the running server (pid ${owner.pid})` : 'embedded: one session, no pool to size'));
            return checks;
        }

        const url = new URL(config.database.url);
        const urlPort = Number(url.port || 5432);
        const pooled = internals.poolerHosts.test(url.hostname) || (facts.serverPort !== null && facts.serverPort !== urlPort);
        checks.push(internals.ok('pooler', pooled ?
            `through a pooler or proxy (DATABASE_URL's port ${urlPort} reaches a server on ${facts.serverPort ?? 'a socket'}): transaction pooling is supported` :
            'a direct connection to the server'));
        // LISTEN needs a session of its own, which a transaction pooler does not keep.
        const listenUrl = config.stream.listenUrl;
        checks.push(listenUrl ?
            internals.ok('stream', `live streams listen for changes on DATABASE_LISTEN_URL (${new URL(listenUrl).host})`) :
            pooled ?
                internals.warn('stream', 'DATABASE_URL goes through a pooler and DATABASE_LISTEN_URL is not set: LISTEN does not work through a transaction pooler, so live streams learn of changes only every SSE_CATCHUP_S seconds', 'set DATABASE_LISTEN_URL to a direct connection to the server') :
                internals.ok('stream', 'live streams listen for changes on DATABASE_URL\'s server'));
        checks.push(await internals.tls(config.database, db));

        const available = facts.maxConnections - facts.reservedConnections;
        const demand = config.database.poolMax * config.workers;
        const pool = `up to ${demand} connections (DB_POOL_MAX ${config.database.poolMax} × ${config.workers} process${config.workers > 1 ? 'es' : ''}) of the ${available} the server allows clients, ${facts.openConnections} open now`;
        if (demand > available) {
            checks.push(pooled ?
                internals.warn('pool', `${pool}; the pooler in between may queue them`, 'make DB_POOL_MAX × WEB_CONCURRENCY at most the pooler\'s pool size') :
                internals.fail('pool', pool, `lower DB_POOL_MAX (or WEB_CONCURRENCY) below ${available}, or put a pooler in front`));
        }
        else if (demand > available * internals.poolWarnShare) {
            checks.push(internals.warn('pool', pool, 'leave room for other clients, migrations and a second deploy: lower DB_POOL_MAX'));
        }
        else {
            checks.push(internals.ok('pool', pool));
        }

        checks.push(facts.statementTimeoutMs === 0 ?
            internals.warn('timeout', `statement_timeout is off on the server; the service waits ${config.database.queryTimeoutMs} ms (DB_QUERY_TIMEOUT_MS) but a runaway statement keeps running`,
                'ALTER ROLE <the service\'s role> SET statement_timeout = \'5s\'') :
            internals.ok('timeout', `statement_timeout ${facts.statementTimeoutMs} ms on the server, DB_QUERY_TIMEOUT_MS ${config.database.queryTimeoutMs} ms here`));

        return checks;
    },

    /** The facts tlsCheck judges, from one of the pool's connections and the server. */
    async tls(database: Extract<DatabaseConfig, { kind: 'postgres' }>, db: Database): Promise<Check> {

        const { tls, host } = postgresConnection(database);
        return tlsCheck({ tls, host, security: await db.security(), server: await serverTls(db).catch(() => null) });
    },

    async migrations(db: Database): Promise<Check> {

        const [applied, pending] = await db.knex.migrate.list();
        if (pending.length) {
            const names = pending.map((entry: string | { file?: string; name?: string }) => (typeof entry === 'string' ? entry : entry.file ?? entry.name));
            return internals.fail('migrations', `${pending.length} pending: ${names.join(', ')}`, 'todo-admin migrate');
        }

        return internals.ok('migrations', `all ${applied.length} applied`);
    },

    /** What limits a client, and whether the store shared by the replicas answers. */
    async rateLimits(config: Config, env: Env): Promise<Check> {

        const { perMinute, authFailuresPerMinute, redisUrl, trustedProxies } = config.rateLimits;
        if (!perMinute && !authFailuresPerMinute) {
            return isProduction(env) ?
                internals.warn('limits', 'RATE_LIMIT_PER_MIN and AUTH_FAILURES_PER_MIN are 0: nothing limits what one client spends', 'set them, unless a gateway in front limits each user and address') :
                internals.ok('limits', 'no rate limits (RATE_LIMIT_PER_MIN and AUTH_FAILURES_PER_MIN are 0)');
        }

        const budgets = `${perMinute || 'no limit of'} requests a minute per user, ${authFailuresPerMinute || 'no limit of'} failed authentications per address, ${trustedProxies} trusted prox${trustedProxies === 1 ? 'y' : 'ies'}`;
        if (!redisUrl) {
            return internals.ok('limits', `${budgets}; counted in ${config.workers > 1 ? 'the primary, for its workers' : 'the process'} (each replica on its own: RATE_LIMIT_REDIS_URL shares them)`);
        }

        const where = new URL(redisUrl);
        try {
            await probeBudgetStore(redisUrl, internals.jwksTimeoutMs);
            return internals.ok('limits', `${budgets}; counted in Redis at ${where.hostname}:${where.port || 6379}, which answers`);
        }
        catch (err) {
            return internals.warn('limits', `Redis at ${where.hostname}:${where.port || 6379} (RATE_LIMIT_REDIS_URL) cannot be reached: ${internals.reason(err)}; each process counts on its own meanwhile`,
                'check RATE_LIMIT_REDIS_URL and that Redis accepts connections from here');
        }
    },

    async jwks(config: Config): Promise<Check> {

        const jwks = config.auth.jwks;
        if (!jwks) {
            return internals.ok('jwks', 'no key set configured (BETTER_AUTH_URL unset): HS256 tokens only');
        }

        const problem = (detail: string): Check => (config.auth.allowHs256 ?
            internals.warn('jwks', `${detail}: Better Auth's own tokens are refused until it answers (HS256 tokens still work)`, 'check BETTER_AUTH_URL / BETTER_AUTH_JWKS_URL and that the auth server is up') :
            internals.fail('jwks', `${detail}: with JWT_ALLOW_HS256=false no token can be verified`, 'check BETTER_AUTH_URL / BETTER_AUTH_JWKS_URL and that the auth server is up'));

        try {
            // The server's own fetch, so that what it refuses (a redirect, a weak key...) is refused here too.
            const { keys, skipped, shortRsa } = await fetchJwks(jwks.url, internals.jwksTimeoutMs);
            const short = shortRsa.length ? `; RSA keys under ${minRsaModulusBits} bits: ${shortRsa.map(({ kid, bits }) => `${kid} (${bits})`).join(', ')}` : '';
            if (!keys.size) {
                return problem(`${jwks.url} holds no usable signing key${skipped ? ` (${skipped} skipped${short})` : ''}`);
            }

            return internals.ok('jwks', `${keys.size} key${keys.size > 1 ? 's' : ''} at ${jwks.url} (${[...keys.keys()].join(', ')})${skipped ? `, ${skipped} unusable entries skipped${short}` : ''}`);
        }
        catch (err) {
            return problem(err instanceof JwksFetchError ? `${jwks.url} answered ${err.message}` : `${jwks.url} cannot be fetched: ${internals.reason(err)}`);
        }
    },

    reason(err: unknown): string {

        if (err instanceof DatabaseTlsError) {
            return err.message;
        }

        const error = err as Error & { cause?: { code?: string; message?: string }; code?: string };
        if (error.name === 'TimeoutError' || error.name === 'AbortError') {
            return 'no answer in time';
        }

        if (isDatabaseUnavailable(err) && error.code) {
            return error.code;
        }

        return error.cause?.code ?? error.cause?.message ?? error.message.split('\n')[0];
    },

    line(check: Check): string {

        return `${check.status.padEnd(4)}  ${check.check.padEnd(10)}  ${check.detail}${check.fix ? `\n${' '.repeat(18)}fix: ${check.fix}` : ''}\n`;
    }
};


/** What the tls check judges: the TLS asked for, the host connected to, and what the connection turned out to be. */
export interface TlsFacts {
    tls: DatabaseTls;
    host: string;
    /** This process's side (its socket); null for a database in this process. */
    security: ConnectionSecurity | null;
    /** The server's side (pg_stat_ssl), where it has one. */
    server: ServerTls | null;
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
            internals.ok('tls', `not encrypted: the database is on this machine (${host || 'a Unix socket'})`) :
            internals.warn('tls', `not encrypted: passwords and data cross the network to ${host} in the clear`, fix);
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
            internals.ok('tls', detail) :
            internals.warn('tls', `${detail}: whoever sits in between can pose as it`, fix);
    }

    if (tls.mode === 'verify-ca') {
        return internals.ok('tls', `${encrypted}; the server's certificate verified against ${against}, its host name not checked (${tls.requested})${hop}`);
    }

    const verified = `${encrypted}; the server's certificate verified against ${against}, for the host ${host}`;
    if (/^(sslmode|PGSSLMODE)=(prefer|require)$/.test(tls.requested ?? '')) {
        return internals.warn('tls', `${verified} (${tls.requested}, taken as verify-full)${hop}`,
            'write sslmode=verify-full in DATABASE_URL: it says what is checked, and libpq (psql) verifies nothing under require or prefer');
    }

    return internals.ok('tls', `${verified}${tls.requested ? ` (${tls.requested})` : ''}${hop}`);
}


/** Every check of a deployment's soundness, in order; none throws. */
export async function diagnose(io: Io): Promise<Check[]> {

    let config: Config;
    try {
        // The development secret is only looked for, not made: that is the server's first start.
        const devFile = developmentSecretFile(io.env);
        config = parseConfig(devFile ? { ...io.env, BETTER_AUTH_SECRET: 'a-development-secret-stands-in-here-0123' } : io.env);
    }
    catch (err) {
        if (err instanceof ConfigError) {
            return [internals.fail('config', err.message, 'see docs/configuration.md, or .env.example')];
        }

        throw err;
    }

    const set = Object.keys(io.env).filter((name) => Object.hasOwn(variables, name) && io.env[name]?.trim());
    const checks = [
        internals.ok('config', `valid (${set.length} variable${set.length === 1 ? '' : 's'} set)`),
        internals.secret(config, io.env),
        internals.audience(config, io.env),
        internals.listen(config, io.env),
        internals.cors(config, io.env)
    ];

    try {
        await withDatabase(io, async (db, description) => {

            checks.push(...await internals.database(config, db, description));
        });
    }
    catch (err) {
        checks.push(internals.fail('database', `cannot be opened: ${internals.reason(err)}`, 'check DATABASE_URL'));
    }

    checks.push(await internals.rateLimits(config, io.env));
    checks.push(await internals.jwks(config));
    return checks;
}


export function doctorCommand(program: Command, io: Io, setExitCode: (code: number) => void): void {

    program.command('doctor')
        .description('Check that a deployment is sound: configuration, database, migrations, pool, key set, secret')
        .option('--json', 'print {ok, checks: [{check, status, detail, fix}]}')
        .addHelpText('after', `
One line per check: ok, warn (works, but see the fix) or fail (fix it). Exit 0 when nothing fails, 1 otherwise.

Example:
  DATABASE_URL=postgres://... BETTER_AUTH_SECRET=... todo-admin doctor`)
        .action(async (options: { json?: boolean }) => {

            const checks = await diagnose(io);
            const ok = !checks.some((check) => check.status === 'fail');
            io.out(options.json ? JSON.stringify({ ok, checks }) + '\n' : checks.map(internals.line).join(''));
            setExitCode(ok ? exitCodes.ok : exitCodes.failure);
        });
}
