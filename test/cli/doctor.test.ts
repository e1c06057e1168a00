import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import anyTest from 'ava';
import type { TestFn } from 'ava';
import nock from 'nock';

import type { Check } from '../../cli/commands/doctor';
import type { CliTarget } from '../helpers/cli';
import { createCliTarget } from '../helpers/cli';
import { testDatabaseConfig } from '../helpers/database';
import { startFaultProxy } from '../helpers/fault-proxy';


const test = anyTest.serial as TestFn<CliTarget>;


const internals = {
    strongSecret: Crypto.randomBytes(32).toString('base64url'),

    async doctor(target: CliTarget, env: Record<string, string> = {}): Promise<{ code: number; checks: Check[]; text: string }> {

        const json = await target.cli(['doctor', '--json'], { BETTER_AUTH_SECRET: internals.strongSecret, ...env });
        const text = await target.cli(['doctor'], { BETTER_AUTH_SECRET: internals.strongSecret, ...env });
        const report = JSON.parse(json.stdout) as { ok: boolean; checks: Check[] };
        if (report.ok !== (json.code === 0) || text.code !== json.code) {
            throw new Error(`doctor's exit code and its report disagree: ${json.code} ${text.code} ${json.stdout}`);
        }

        return { code: json.code, checks: report.checks, text: text.stdout };
    },

    check(checks: Check[], name: string): Check {

        const found = checks.find((check) => check.check === name);
        if (!found) {
            throw new Error(`no ${name} check in ${JSON.stringify(checks)}`);
        }

        return found;
    }
};


test.before(async (t) => {

    t.context = await createCliTarget({ migrate: true });
});

test.after.always(async (t) => {

    nock.cleanAll();
    await t.context?.destroy();
});


test('a sound deployment: one line per check, nothing fails, exit 0', async (t) => {

    const postgres = !t.context.env.DATABASE_URL.startsWith('pglite://');
    if (postgres) {
        // The database's own default, as an operator would set it on the service's role. Sessions opened before
        // (a pooler keeps them) still have none, so they are ended.
        await t.context.query(async (db) => {

            await db.knex.raw(`alter database ${new URL(t.context.env.DATABASE_URL).pathname.slice(1)} set statement_timeout = '5s'`);
            // This session too: it ends with the statement.
            await db.knex.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database()').catch(() => undefined);
        });
    }

    // Behind a transaction pooler (CI's run through PgBouncer), a sound deployment lets live streams listen directly.
    const listen: Record<string, string> = process.env.TEST_DATABASE_LISTEN_URL ? { DATABASE_LISTEN_URL: process.env.TEST_DATABASE_LISTEN_URL } : {};
    const { code, checks, text } = await internals.doctor(t.context, listen);
    t.is(code, 0, text);
    t.deepEqual(checks.filter((check) => check.status !== 'ok'), [], text);
    t.deepEqual(checks.map((check) => check.check), postgres ?
        ['config', 'secret', 'audience', 'listen', 'cors', 'database', 'migrations', 'pooler', 'stream', 'tls', 'pool', 'timeout', 'limits', 'jwks'] :
        ['config', 'secret', 'audience', 'listen', 'cors', 'database', 'migrations', 'pool', 'limits', 'jwks']);
    t.regex(internals.check(checks, 'database').detail, postgres ? /: PostgreSQL \d+\.\d+.*, round trip \d+\.\d ms$/ : /^embedded PGlite in .*: PostgreSQL \d+\.\d+ \(PGlite [\d.]+\), round trip \d+\.\d ms$/);
    t.regex(internals.check(checks, 'migrations').detail, /^all \d+ applied$/);
    if (postgres) {
        t.regex(internals.check(checks, 'timeout').detail, /^statement_timeout 5000 ms on the server, DB_QUERY_TIMEOUT_MS 5000 ms here$/);
        t.regex(internals.check(checks, 'pool').detail, /^up to 10 connections \(DB_POOL_MAX 10 × 1 process\) of the \d+ the server allows clients, \d+ open now$/);
        t.is(internals.check(checks, 'tls').detail, `not encrypted: the database is on this machine (${new URL(t.context.env.DATABASE_URL).hostname})`);
    }

    t.is(text.split('\n').filter(Boolean).length, checks.length, 'one line per check when all is well');
    t.regex(text, /^ok {4}config {6}valid \(\d+ variables? set\)$/m);
});

test('pending migrations fail, with the command that applies them', async (t) => {

    const fresh = await createCliTarget();
    t.teardown(() => fresh.destroy());
    const { code, checks, text } = await internals.doctor(fresh);
    t.is(code, 1);
    t.like(internals.check(checks, 'migrations'), { status: 'fail', fix: 'todo-admin migrate' });
    t.regex(internals.check(checks, 'migrations').detail, /^\d+ pending: 20261122053000_create_tasks\.ts, /);
    t.regex(text, /^fail {2}migrations {2}\d+ pending: .*\n {18}fix: todo-admin migrate$/m);
});

test('a database that cannot be reached fails; the checks that need no database still run', async (t) => {

    const { code, checks } = await internals.doctor(t.context, { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_TIMEOUT_MS: '500' });
    t.is(code, 1);
    t.like(internals.check(checks, 'database'), { status: 'fail', fix: 'check DATABASE_URL, and that the database accepts connections from here' });
    t.regex(internals.check(checks, 'database').detail, /^PostgreSQL at 127\.0\.0\.1:1\/none cannot be reached: ECONNREFUSED$/);
    t.is(internals.check(checks, 'secret').status, 'ok');
    t.is(internals.check(checks, 'jwks').status, 'ok');
});

test('a configuration that does not parse is one failing check, naming the variable', async (t) => {

    const { code, checks } = await internals.doctor(t.context, { DB_POOL_MAX: '0', DATABASE_URL: 'postgres://db.example.com/todo' });
    t.is(code, 1);
    t.deepEqual(checks, [{ check: 'config', status: 'fail', detail: 'DB_POOL_MAX must be a whole number from 1 to 1000, not "0"', fix: 'see docs/configuration.md, or .env.example' }]);
});

test('the secret: strong is ok; short, patterned or a development secret warn; HS256 off needs none', async (t) => {

    t.is(internals.check((await internals.doctor(t.context)).checks, 'secret').status, 'ok');

    for (const weak of ['x'.repeat(48), 'abcdefghij'.repeat(4)]) {
        const secret = internals.check((await internals.doctor(t.context, { BETTER_AUTH_SECRET: weak })).checks, 'secret');
        t.like(secret, { status: 'warn', fix: 'use 32 random bytes, e.g. openssl rand -base64 32, in the frontend and here' });
        t.regex(secret.detail, /^BETTER_AUTH_SECRET is \d+ characters, \d+ of them different: guessable$/);
    }

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-doctor-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
    const development = await internals.doctor(t.context, { BETTER_AUTH_SECRET: '', DATABASE_URL: `pglite://${dir}` });
    t.like(internals.check(development.checks, 'secret'), { status: 'warn', detail: `BETTER_AUTH_SECRET is not set: the server uses the development secret in ${dir}/dev-secret` });
    t.false(Fs.existsSync(Path.join(dir, 'dev-secret')), 'doctor only looks for it');

    // One the server would refuse fails the configuration, with the server's own line.
    Fs.writeFileSync(Path.join(dir, 'dev-secret'), 'short', { mode: 0o600 });
    const tooShort = await internals.doctor(t.context, { BETTER_AUTH_SECRET: '', DATABASE_URL: `pglite://${dir}` });
    t.is(tooShort.code, 1);
    t.deepEqual(tooShort.checks, [{ check: 'config', status: 'fail', detail: `BETTER_AUTH_SECRET is not set, and the development secret in ${dir}/dev-secret is too short: delete the file to have a new one made`, fix: 'see docs/configuration.md, or .env.example' }]);
    if (process.getuid?.() !== undefined) {
        Fs.writeFileSync(Path.join(dir, 'dev-secret'), internals.strongSecret);
        Fs.chmodSync(Path.join(dir, 'dev-secret'), 0o644);
        const open = await internals.doctor(t.context, { BETTER_AUTH_SECRET: '', DATABASE_URL: `pglite://${dir}` });
        t.like(open.checks[0], { check: 'config', status: 'fail' });
        t.regex(open.checks[0].detail, /^BETTER_AUTH_SECRET is not set, and the development secret is refused: .*dev-secret is open to other users \(mode 0?644, not 0600\)/);
    }

    nock('https://auth.example.com').get('/api/auth/jwks').reply(200, { keys: [] });
    const keySetOnly = await internals.doctor(t.context, { BETTER_AUTH_SECRET: '', JWT_ALLOW_HS256: 'false', BETTER_AUTH_URL: 'https://auth.example.com' });
    t.like(internals.check(keySetOnly.checks, 'secret'), { status: 'ok', detail: 'HS256 is off: tokens are verified with the key set only' });
});

test('in production, HS256 tokens with no audience or issuer required warn', async (t) => {

    const unbound = await internals.doctor(t.context, { NODE_ENV: 'production', HOST: '0.0.0.0', CORS_ORIGINS: 'https://app.example.com' });
    t.like(internals.check(unbound.checks, 'audience'), {
        status: 'warn',
        fix: 'sign aud (and iss) into the frontend\'s tokens for this API and set JWT_AUDIENCE (and JWT_ISSUER) to match'
    });

    const audience = await internals.doctor(t.context, { NODE_ENV: 'production', JWT_AUDIENCE: 'https://api.example.com' });
    t.like(internals.check(audience.checks, 'audience'), { status: 'ok', detail: 'every token must carry aud https://api.example.com' });
    const issuer = await internals.doctor(t.context, { NODE_ENV: 'production', JWT_ISSUER: 'https://app.example.com' });
    t.like(internals.check(issuer.checks, 'audience'), { status: 'ok', detail: 'every token must carry iss https://app.example.com' });

    // Outside production the frontend's plain { user_id, exp } tokens are what is expected.
    t.is(internals.check((await internals.doctor(t.context)).checks, 'audience').status, 'ok');
});

test('the rate limits: where they are counted, whether Redis answers, and a warning when they are off in production', async (t) => {

    const local = await internals.doctor(t.context);
    t.like(internals.check(local.checks, 'limits'), {
        status: 'ok',
        detail: '600 requests a minute per user, 60 failed authentications per address, 0 trusted proxies; counted in the process (each replica on its own: RATE_LIMIT_REDIS_URL shares them)'
    });

    const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
    const shared = await internals.doctor(t.context, { RATE_LIMIT_REDIS_URL: redisUrl, TRUST_PROXY: '1' });
    t.like(internals.check(shared.checks, 'limits'), { status: 'ok' });
    t.regex(internals.check(shared.checks, 'limits').detail, /, 1 trusted proxy; counted in Redis at .*, which answers$/);

    const unreachable = await internals.doctor(t.context, { RATE_LIMIT_REDIS_URL: 'redis://127.0.0.1:1' });
    t.like(internals.check(unreachable.checks, 'limits'), { status: 'warn', fix: 'check RATE_LIMIT_REDIS_URL and that Redis accepts connections from here' });
    t.is(unreachable.code, 0, 'a warning, not a failure: the service still answers');

    const off = await internals.doctor(t.context, { NODE_ENV: 'production', RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0' });
    t.like(internals.check(off.checks, 'limits'), { status: 'warn', detail: 'RATE_LIMIT_PER_MIN and AUTH_FAILURES_PER_MIN are 0: nothing limits what one client spends' });
});

test('in production: a loopback HOST and development or plain-http CORS origins warn', async (t) => {

    const loose = await internals.doctor(t.context, { NODE_ENV: 'production', HOST: '127.0.0.1', CORS_ORIGINS: 'http://localhost:3000' });
    t.is(loose.code, 0, 'warnings do not fail');
    t.like(internals.check(loose.checks, 'listen'), { status: 'warn', detail: 'HOST=127.0.0.1: only this machine can connect' });
    t.like(internals.check(loose.checks, 'cors'), { status: 'warn', detail: 'NODE_ENV=production allows development origins: http://localhost:3000' });

    const plain = await internals.doctor(t.context, { NODE_ENV: 'production', HOST: '0.0.0.0', CORS_ORIGINS: 'http://app.example.com' });
    t.like(internals.check(plain.checks, 'listen'), { status: 'ok', detail: '0.0.0.0:8000 (every interface), 1 process' });
    t.like(internals.check(plain.checks, 'cors'), { status: 'warn', detail: 'origins without TLS: http://app.example.com' });

    const tight = await internals.doctor(t.context, { NODE_ENV: 'production', HOST: '0.0.0.0', CORS_ORIGINS: 'https://app.example.com' });
    t.like(internals.check(tight.checks, 'cors'), { status: 'ok', detail: 'browsers may call from https://app.example.com' });

    // Outside production, a laptop's loopback and localhost frontend are what is expected.
    t.is(internals.check((await internals.doctor(t.context)).checks, 'listen').status, 'ok');
});

test('the pool against max_connections: within is ok, near it warns, past it fails', async (t) => {

    if (t.context.env.DATABASE_URL.startsWith('pglite://')) {
        // The embedded database is one session: there is no pool to size, whatever DB_POOL_MAX says.
        const embedded = await internals.doctor(t.context, { DB_POOL_MAX: '1000' });
        t.like(internals.check(embedded.checks, 'pool'), { status: 'ok', detail: 'embedded: one session, no pool to size' });
        return;
    }

    const pooled = (await internals.doctor(t.context)).checks.find((check) => check.check === 'pooler')!.detail.startsWith('through');
    const { checks } = await internals.doctor(t.context, { DB_POOL_MAX: '5', WEB_CONCURRENCY: '4' });
    t.like(internals.check(checks, 'pool'), { status: 'ok' });
    t.regex(internals.check(checks, 'pool').detail, /^up to 20 connections \(DB_POOL_MAX 5 × 4 processes\) of the \d+/);

    const near = internals.check((await internals.doctor(t.context, { DB_POOL_MAX: '90' })).checks, 'pool');
    t.like(near, { status: 'warn', fix: 'leave room for other clients, migrations and a second deploy: lower DB_POOL_MAX' });

    const past = await internals.doctor(t.context, { DB_POOL_MAX: '200' });
    t.is(internals.check(past.checks, 'pool').status, pooled ? 'warn' : 'fail');
    t.is(past.code, pooled ? 0 : 1);
});

test('a DATABASE_URL that reaches the server through something in between is reported as a pooler', async (t) => {

    const base = await testDatabaseConfig();
    if (base.kind === 'pglite') {
        t.false((await internals.doctor(t.context)).checks.some((check) => check.check === 'pooler'), 'the embedded database has no pooler check');
        return;
    }

    const proxy = await startFaultProxy(t.context.env.DATABASE_URL);
    t.teardown(() => proxy.close());
    const { checks } = await internals.doctor(t.context, { DATABASE_URL: proxy.url });
    t.like(internals.check(checks, 'pooler'), { status: 'ok' });
    t.regex(internals.check(checks, 'pooler').detail, new RegExp(`^through a pooler or proxy \\(DATABASE_URL's port ${proxy.port} reaches a server on \\d+\\): transaction pooling is supported$`));
    // LISTEN does not pass a transaction pooler: the live streams need a direct URL.
    t.like(internals.check(checks, 'stream'), { status: 'warn' });
    t.regex(internals.check(checks, 'stream').detail, /DATABASE_LISTEN_URL is not set/);
    const listening = await internals.doctor(t.context, { DATABASE_URL: proxy.url, DATABASE_LISTEN_URL: t.context.env.DATABASE_URL });
    t.like(internals.check(listening.checks, 'stream'), { status: 'ok' });
});

test('the key set: its keys counted; unreachable or empty warns while HS256 works, fails when it is the only way', async (t) => {

    const jwk = { ...Crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'EdDSA' };
    const env = { BETTER_AUTH_URL: 'https://auth.example.com' };

    nock('https://auth.example.com').get('/api/auth/jwks').times(2).reply(200, { keys: [jwk, { kty: 'oct', kid: 'x' }] });
    t.like(internals.check((await internals.doctor(t.context, env)).checks, 'jwks'), {
        status: 'ok',
        detail: '1 key at https://auth.example.com/api/auth/jwks (key-1), 1 unusable entries skipped'
    });

    nock('https://auth.example.com').get('/api/auth/jwks').times(2).reply(503, 'down');
    const down = await internals.doctor(t.context, env);
    t.is(down.code, 0);
    t.like(internals.check(down.checks, 'jwks'), { status: 'warn', detail: 'https://auth.example.com/api/auth/jwks answered HTTP 503: Better Auth\'s own tokens are refused until it answers (HS256 tokens still work)' });

    nock('https://auth.example.com').get('/api/auth/jwks').times(2).reply(200, { keys: [] });
    const only = await internals.doctor(t.context, { ...env, JWT_ALLOW_HS256: 'false' });
    t.is(only.code, 1);
    t.like(internals.check(only.checks, 'jwks'), { status: 'fail', detail: 'https://auth.example.com/api/auth/jwks holds no usable signing key: with JWT_ALLOW_HS256=false no token can be verified' });

    const short = { ...Crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }), kid: 'old-rsa', alg: 'RS256' };
    nock('https://auth.example.com').get('/api/auth/jwks').times(2).reply(200, { keys: [jwk, short] });
    t.like(internals.check((await internals.doctor(t.context, env)).checks, 'jwks'), {
        status: 'ok',
        detail: '1 key at https://auth.example.com/api/auth/jwks (key-1), 1 unusable entries skipped; RSA keys under 2048 bits: old-rsa (1024)'
    });

    // The server's own fetch: a redirect is refused, and where it points is never asked.
    const elsewhere = nock('http://10.1.2.3').get('/keys').times(2).reply(200, { keys: [jwk] });
    nock('https://auth.example.com').get('/api/auth/jwks').times(2).reply(307, '', { location: 'http://10.1.2.3/keys' });
    const redirected = await internals.doctor(t.context, env);
    t.like(internals.check(redirected.checks, 'jwks'), { status: 'warn', detail: 'https://auth.example.com/api/auth/jwks answered HTTP 307, a redirect to http://10.1.2.3/keys, not followed: Better Auth\'s own tokens are refused until it answers (HS256 tokens still work)' });
    t.false(elsewhere.isDone());
});
