import Crypto from 'node:crypto';

import test from 'ava';
import nock from 'nock';

import { JwksKeySet } from '../../src/auth/jwks';
import { verifiedUntilSec } from '../../src/auth/jwt';
import { VerifiedTokens } from '../../src/auth/verified-tokens';
import { parseAuthConfig } from '../../src/config';
import { startTestApi, testSecret } from '../helpers/api';
import { nowSec, signHs256 } from '../helpers/tokens';


const entry = (id: string, untilSec: number) => ({ credentials: { user: { id } }, artifacts: {}, untilSec });


test('a verified token is remembered until untilSec, under its whole string only', (t) => {

    let now = 1000;
    const tokens = new VerifiedTokens(10, () => now);
    tokens.set('a.b.c', entry('alice', 1010));

    t.like(tokens.get('a.b.c'), { credentials: { user: { id: 'alice' } } });
    t.is(tokens.get('a.b.d'), null, 'another signature is another token');
    t.is(tokens.get('a.b.c '), null);

    now = 1009;
    t.truthy(tokens.get('a.b.c'));
    now = 1010;
    t.is(tokens.get('a.b.c'), null, 'gone at untilSec');
    t.is(tokens.size, 0, 'and forgotten');

    tokens.set('x.y.z', entry('bob', 1010));
    t.is(tokens.size, 0, 'a token already past its time is not kept');
});

test('bounded: past its size the oldest entry goes', (t) => {

    const tokens = new VerifiedTokens(2, () => 0);
    tokens.set('one', entry('1', 100));
    tokens.set('two', entry('2', 100));
    tokens.set('three', entry('3', 100));
    t.is(tokens.size, 2);
    t.is(tokens.get('one'), null);
    t.truthy(tokens.get('two'));
    t.truthy(tokens.get('three'));

    tokens.set('two', entry('2', 200));
    t.is(tokens.size, 2, 'setting a known token again evicts nothing');
    t.truthy(tokens.get('three'));
});

test('forgetKeys forgets the tokens verified with those key-set keys, and no other', (t) => {

    const tokens = new VerifiedTokens(10, () => 0);
    tokens.set('hs', entry('shared-secret', 100));
    tokens.set('a1', { ...entry('alice', 100), kid: 'a' });
    tokens.set('a2', { ...entry('bob', 100), kid: 'a' });
    tokens.set('b1', { ...entry('carol', 100), kid: 'b' });

    tokens.forgetKeys(new Set(['a', 'z']));
    t.is(tokens.get('a1'), null);
    t.is(tokens.get('a2'), null);
    t.truthy(tokens.get('b1'));
    t.truthy(tokens.get('hs'));
    t.is(tokens.size, 2);
});

test('a key withdrawn at the max-age refresh forgets its remembered tokens', async (t) => {

    const base = 'https://verified-tokens.example.test';
    const jwk = (kid: string) => ({ ...Crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' });
    const answers = [{ keys: [jwk('old'), jwk('new')] }, { keys: [jwk('new')] }];
    nock(base).get('/jwks').reply(200, answers[0]).get('/jwks').reply(200, answers[1]);
    t.teardown(() => nock.cleanAll());

    let nowMs = 1_000_000_000;
    const keySet = new JwksKeySet({ url: `${base}/jwks`, baseUrl: base, refetchIntervalSec: 30, maxAgeSec: 600, maxStaleSec: 86_400, timeoutMs: 1000 }, () => undefined, () => nowMs);
    const tokens = new VerifiedTokens(10, () => Math.floor(nowMs / 1000));
    keySet.onKeysWithdrawn((kids) => tokens.forgetKeys(kids));

    t.truthy(await keySet.find('old'));
    tokens.set('signed-by-old', { ...entry('alice', 1_000_000_000), kid: 'old' });

    nowMs += 601_000;                                   // past JWKS_MAX_AGE_S: the next find refreshes
    t.truthy(await keySet.find('new'));
    t.truthy(tokens.get('signed-by-old'), 'until the refresh answers');
    await keySet.refresh();

    t.is(tokens.get('signed-by-old'), null);
    t.is(await keySet.find('old'), null);
});

test('a token verified with keys near JWKS_MAX_STALE_S is remembered only until the keys stop verifying', async (t) => {

    const base = 'https://verified-tokens-stale.example.test';
    nock(base).get('/jwks').reply(200, { keys: [{ ...Crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'EdDSA' }] })
        .get('/jwks').times(2).reply(503, 'down');
    t.teardown(() => nock.cleanAll());

    const config = parseAuthConfig({ BETTER_AUTH_SECRET: testSecret, BETTER_AUTH_URL: base, JWKS_MAX_AGE_S: '600', JWKS_MAX_STALE_S: '3600' });
    let nowMs = 1_000_000_000;
    const fakeNowSec = () => Math.floor(nowMs / 1000);
    const keySet = new JwksKeySet({ ...config.jwks!, url: `${base}/jwks` }, () => undefined, () => nowMs);
    const tokens = new VerifiedTokens(10, fakeNowSec);
    t.truthy(await keySet.find('k'));

    // Verified 3300 s after the last fetch, the refresh it asks for failing: JWKS_MAX_AGE_S alone would keep it 600 s.
    nowMs += 3_300_000;
    t.truthy(await keySet.find('k'));
    await keySet.refresh();
    const artifacts = { decoded: { header: { alg: 'EdDSA', kid: 'k' }, payload: { exp: fakeNowSec() + 86_400 }, signature: '' } } as unknown as Parameters<typeof verifiedUntilSec>[0];
    tokens.set('signed-by-k', { ...entry('alice', verifiedUntilSec(artifacts, config, keySet, fakeNowSec())), kid: 'k' });

    nowMs += 299_000;
    t.truthy(tokens.get('signed-by-k'));
    t.is(keySet.state(), 'stale');

    nowMs += 2000;
    t.is(keySet.state(), 'expired');
    t.is(tokens.get('signed-by-k'), null, 'gone with the keys');
    t.is(await keySet.find('k'), null);
});

test('remembered until exp plus the skew; a key set token no longer than the key set is trusted without a refresh, nor past its keys\' expiry', (t) => {

    const config = parseAuthConfig({ BETTER_AUTH_SECRET: testSecret, BETTER_AUTH_URL: 'https://auth.example.com', JWT_CLOCK_SKEW_S: '30', JWKS_MAX_AGE_S: '600' });
    const token = (alg: string, exp: number) => ({ decoded: { header: { alg }, payload: { exp }, signature: '' } }) as unknown as Parameters<typeof verifiedUntilSec>[0];

    t.is(verifiedUntilSec(token('HS256', 5000), config, null, 1000), 5030);
    t.is(verifiedUntilSec(token('EdDSA', 5000), config, null, 1000), 1600);
    t.is(verifiedUntilSec(token('EdDSA', 1100), config, null, 1000), 1130);

    // Nor past the moment the key set's keys stop verifying (JWKS_MAX_STALE_S after their last fetch).
    const keySet = { trustedUntilSec: () => 1200 };
    t.is(verifiedUntilSec(token('EdDSA', 5000), config, keySet, 1000), 1200);
    t.is(verifiedUntilSec(token('HS256', 5000), config, keySet, 1000), 5030);
});

test('through the API: a token is verified once, then its remembered verification is used, and it still expires', async (t) => {

    const api = await startTestApi({ JWT_CLOCK_SKEW_S: '0' });
    t.teardown(() => api.stop());

    const seen: unknown[] = [];
    api.server.ext('onPostAuth', (request, h) => {

        seen.push(request.auth.artifacts);
        return h.continue;
    });

    const token = signHs256({ alg: 'HS256', typ: 'JWT' }, { user_id: 'remembered', iat: nowSec(), exp: nowSec() + 2 }, testSecret);
    const ask = (authorization: string) => api.request({ method: 'GET', url: '/api/tasks', headers: { authorization } });

    t.is((await ask(`Bearer ${token}`)).statusCode, 200);
    t.is((await ask(`bearer  ${token}`)).statusCode, 200, 'any spelling @hapi/jwt reads');
    t.is(seen.length, 2);
    t.is(seen[1], seen[0], 'the second request used the first one\'s verification');

    t.is((await ask(`Bearer ${token} extra`)).statusCode, 401, 'a header @hapi/jwt refuses is refused, remembered token or not');
    t.is((await ask(`Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).statusCode, 401, 'a changed signature is another token');

    await new Promise((resolve) => setTimeout(resolve, (nowSec() + 3) * 1000 - Date.now()));
    const expired = await ask(`Bearer ${token}`);
    t.is(expired.statusCode, 401);
    t.deepEqual(expired.result, { detail: 'Invalid authentication credentials' });
});
