import anyTest from 'ava';
import type { TestFn } from 'ava';

import Jwt from '@hapi/jwt';

import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import type { CliTarget } from '../helpers/cli';
import { createCliTarget } from '../helpers/cli';


const test = anyTest.serial as TestFn<{ target: CliTarget; api: TestApi }>;

test.before(async (t) => {

    const target = await createCliTarget({ migrate: true });
    await target.cli(['seed']);
    t.context = { target, api: await startTestApi({ JWT_CLOCK_SKEW_S: '0' }) };
});

test.after.always(async (t) => {

    await t.context.api?.stop();
    await t.context.target?.destroy();
});


const listAs = (api: TestApi, token: string) => api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${token}` } });


test('a minted token is accepted by the server, for an id or an email', async (t) => {

    const { target, api } = t.context;

    const byId = await target.cli(['mint-token', '--user', 'some-user-id']);
    t.is(byId.code, 0);
    t.regex(byId.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    t.is((await listAs(api, byId.stdout.trim())).statusCode, 200);

    const byEmail = await target.cli(['mint-token', '--user', 'alice@example.com', '--json']);
    t.is(byEmail.code, 0);
    const minted = JSON.parse(byEmail.stdout);
    t.is(minted.user_id, 'demo-alice');
    t.true(Math.abs(Date.parse(minted.expires_at) - (Date.now() + 3600_000)) < 5000);

    const created = await api.request({ method: 'POST', url: '/api/tasks', headers: { authorization: `Bearer ${minted.token}` }, payload: { title: 'from a minted token' } });
    t.is(created.statusCode, 201);
    t.is((created.result as { user_id: string }).user_id, 'demo-alice');
});

test('--claim sub, --issuer and --audience shape the token', async (t) => {

    const { target } = t.context;
    const result = await target.cli(['mint-token', '--user', 'u-sub', '--claim', 'sub', '--issuer', 'https://auth.example.com', '--audience', 'todo', '--ttl', '15m']);
    t.is(result.code, 0, result.stderr);
    const payload = Jwt.token.decode(result.stdout.trim()).decoded.payload;
    t.like(payload, { sub: 'u-sub', iss: 'https://auth.example.com', aud: 'todo' });
    t.false('user_id' in payload);
    t.is(payload.exp - payload.iat, 900);

    const api = await startTestApi({ JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'todo' });
    t.teardown(() => api.stop());
    t.is((await listAs(api, result.stdout.trim())).statusCode, 200);

    // JWT_ISSUER / JWT_AUDIENCE in the environment are the defaults.
    const fromEnv = await target.cli(['mint-token', '--user', 'u-env'], { JWT_ISSUER: 'https://auth.example.com', JWT_AUDIENCE: 'todo' });
    t.is(fromEnv.code, 0, fromEnv.stderr);
    t.is((await listAs(api, fromEnv.stdout.trim())).statusCode, 200);
});

test('a token minted with --ttl 1s is accepted, then refused once it has expired', async (t) => {

    const { target, api } = t.context;
    const result = await target.cli(['mint-token', '--user', 'short-lived', '--ttl', '1s']);
    t.is(result.code, 0, result.stderr);
    const token = result.stdout.trim();
    const { payload } = Jwt.token.decode(token).decoded;
    t.is(payload.exp - payload.iat, 1);

    // The server reads the real clock (JWT_CLOCK_SKEW_S=0 here): the token is good until its exp second is over.
    if (Date.now() < (payload.exp - 0.2) * 1000) {
        t.is((await listAs(api, token)).statusCode, 200, 'accepted while it lives');
    }

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (payload.exp + 1) * 1000 - Date.now())));
    t.is((await listAs(api, token)).statusCode, 401);
});

test('an unknown email is exit 2; bad options and a missing secret are usage errors', async (t) => {

    const { target } = t.context;

    const unknown = await target.cli(['mint-token', '--user', 'nobody@example.com']);
    t.is(unknown.code, 2);
    t.is(unknown.stdout, '');
    t.is(unknown.stderr, 'todo-admin: no user with email nobody@example.com (todo-admin users list shows them)\n');

    for (const argv of [['--ttl', 'forever'], ['--ttl', '0'], ['--claim', 'email'], []]) {
        const result = await target.cli(['mint-token', ...(argv.length ? ['--user', 'u'] : []), ...argv]);
        t.is(result.code, 2, argv.join(' ') || 'no --user');
        t.is(result.stdout, '');
    }

    // Where no development secret applies (production here; a DATABASE_URL of PostgreSQL too), the secret is needed.
    const noSecret = await target.cli(['mint-token', '--user', 'u'], { BETTER_AUTH_SECRET: '', NODE_ENV: 'production' });
    t.is(noSecret.code, 2);
    t.regex(noSecret.stderr, /BETTER_AUTH_SECRET is not set/);
});

test('--ttl is at most JWT_MAX_LIFETIME_S, as the server accepts', async (t) => {

    const { target, api } = t.context;

    const tooLong = await target.cli(['mint-token', '--user', 'u', '--ttl', '2d']);
    t.is(tooLong.code, 2);
    t.is(tooLong.stdout, '');
    t.is(tooLong.stderr, 'todo-admin: --ttl 2d is longer than the 86400 s a token may live (JWT_MAX_LIFETIME_S): the server would refuse it\n');

    const day = await target.cli(['mint-token', '--user', 'u', '--ttl', '1d']);
    t.is(day.code, 0, day.stderr);
    t.is((await listAs(api, day.stdout.trim())).statusCode, 200);

    const raised = await target.cli(['mint-token', '--user', 'u', '--ttl', '2d'], { JWT_MAX_LIFETIME_S: '172800' });
    t.is(raised.code, 0, raised.stderr);
});

test('under NODE_ENV=production it mints only with --allow-production, and says for whom and how long', async (t) => {

    const { target, api } = t.context;
    const production = { NODE_ENV: 'production' };

    const refused = await target.cli(['mint-token', '--user', 'real-user'], production);
    t.is(refused.code, 2);
    t.is(refused.stdout, '');
    t.regex(refused.stderr, /^todo-admin: NODE_ENV is production: .*add --allow-production to mint one anyway\n$/);

    const allowed = await target.cli(['mint-token', '--user', 'real-user', '--ttl', '15m', '--allow-production'], production);
    t.is(allowed.code, 0, allowed.stderr);
    t.is((await listAs(api, allowed.stdout.trim())).statusCode, 200);
    t.regex(allowed.stderr, /^todo-admin: minted a production token for user "real-user", valid 900 s until \d{4}-\d\d-\d\dT[\d:.]+Z, by \S+@\S+\n$/);

    // Outside production nothing is logged.
    t.is((await target.cli(['mint-token', '--user', 'real-user'])).stderr, '');
});
