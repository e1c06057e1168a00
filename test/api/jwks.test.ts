import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';
import Jwt from '@hapi/jwt';
import nock from 'nock';

import { JwksKeySet } from '../../src/auth/jwks';
import { signingKeyFromJwk, mintToken } from '../../src/auth/tokens';
import type { SigningKey } from '../../src/auth/tokens';
import type { TestApi } from '../helpers/api';
import { startTestApi, testSecret } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { createTestDatabase } from '../helpers/database';
import { nowSec, signHs256 } from '../helpers/tokens';
import { waitFor } from '../helpers/wait';


const test = anyTest as TestFn<{ database: TestDatabase }>;


interface Pair {
    kid: string;
    signing: SigningKey;
    publicJwk: Crypto.JsonWebKey & { kid: string; alg?: string };
}


function pair(kid: string, type: 'ed25519' | 'rsa' | 'ec', alg?: string): Pair {

    const { privateKey, publicKey } = type === 'ed25519' ? Crypto.generateKeyPairSync('ed25519') :
        type === 'rsa' ? Crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) :
            Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });

    const extras = alg ? { alg } : {};
    return {
        kid,
        signing: signingKeyFromJwk({ ...privateKey.export({ format: 'jwk' }), kid, ...extras }),
        // As Better Auth serves them: kid and alg, and no `use`.
        publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, ...extras }
    };
}

const ed = pair('ed-1', 'ed25519', 'EdDSA');
const rsa = pair('rsa-1', 'rsa', 'RS256');
const ec = pair('ec-1', 'ec', 'ES256');
const edRotated = pair('ed-2', 'ed25519', 'EdDSA');
const stranger = pair('ed-1', 'ed25519', 'EdDSA');          // same kid, another key

// Keys signing can no longer be had with (signingKeyFromJwk refuses them), as a key set could still serve them.
const shortRsa = [512, 1024].map((modulusLength) => {

    const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength });
    return { kid: `rsa-${modulusLength}`, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid: `rsa-${modulusLength}`, alg: 'RS256' } };
});


let hosts = 0;

/** A Better Auth server of the test's own, whose key set answer the test can change; counts the fetches. */
function authServer(initial: () => [number, unknown]) {

    const base = `https://auth-${++hosts}.example.test`;
    const state = { fetches: 0, answer: initial };
    nock(base).persist().get('/api/auth/jwks').reply(() => {

        ++state.fetches;
        return state.answer();
    });

    return { base, state };
}

const jwks = (...pairs: Pair[]) => {

    return (): [number, unknown] => [200, { keys: pairs.map((p) => p.publicJwk) }];
};


async function api(t: ExecutionContext<{ database: TestDatabase }>, base: string, env: Record<string, string> = {}, clock?: Clock) {

    const started = await startTestApi({ BETTER_AUTH_URL: base, JWKS_REFETCH_INTERVAL_S: '3600', ...env }, t.context.database, clock ? { keySetClock: () => clock.nowMs } : {});
    t.teardown(() => started.stop());
    return started;
}

/** The key set's clock, which a test moves on instead of waiting. */
interface Clock {
    nowMs: number;
}

const clock = (): Clock => {

    return { nowMs: Date.now() };
};

/** A token as Better Auth mints it: sub is the user, iss = aud = its base URL, kid in the header. */
const betterAuthToken = (key: Pair, base: string, claims: { issuer?: string; audience?: string; userId?: string } = {}) => {

    return mintToken(
        { secret: null, issuer: null, audience: null },
        { userId: claims.userId ?? 'XyZ0123456789abcdefghijklmnopqrs', claim: 'sub', ttlSec: 900, issuer: claims.issuer ?? base, audience: claims.audience ?? base, signingKey: key.signing }
    ).token;
};

const list = (server: TestApi, token: string) => server.request({ method: 'GET', url: '/api/tasks', headers: { authorization: `Bearer ${token}` } });


test.before(async (t) => {

    t.context = { database: await createTestDatabase() };
});

test.after.always(async (t) => {

    nock.cleanAll();
    await t.context.database?.destroy();
});


for (const key of [ed, rsa, ec]) {
    test(`a ${key.signing.algorithm} token from Better Auth's key set is accepted; the user is its sub`, async (t) => {

        const auth = authServer(jwks(ed, rsa, ec));
        const server = await api(t, auth.base);

        const created = await server.request({ method: 'POST', url: '/api/tasks', headers: { authorization: `Bearer ${betterAuthToken(key, auth.base, { userId: `user-${key.kid}` })}` }, payload: { title: 'signed' } });
        t.is(created.statusCode, 201);
        t.is((created.result as { user_id: string }).user_id, `user-${key.kid}`);
        t.is(auth.state.fetches, 1);

        const health = await server.request({ method: 'GET', url: '/health' });
        t.is((health.result as { jwks: string }).jwks, 'ok');
    });
}

test('a token signed by another key under a known kid, or with a tampered payload, is refused', async (t) => {

    const auth = authServer(jwks(ed));
    const server = await api(t, auth.base);

    t.is((await list(server, betterAuthToken(stranger, auth.base))).statusCode, 401);

    const [header, , signature] = betterAuthToken(ed, auth.base).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', iss: auth.base, aud: auth.base, iat: nowSec(), exp: nowSec() + 900 })).toString('base64url');
    t.is((await list(server, `${header}.${forged}.${signature}`)).statusCode, 401);

    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
});

test('an unknown kid refetches the key set once, then is refused', async (t) => {

    const auth = authServer(jwks(ed));
    const server = await api(t, auth.base);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
    t.is(auth.state.fetches, 1);

    const unknown = pair('nobody-knows', 'ed25519', 'EdDSA');
    t.is((await list(server, betterAuthToken(unknown, auth.base))).statusCode, 401);
    t.is((await list(server, betterAuthToken(unknown, auth.base))).statusCode, 401);
    t.is(auth.state.fetches, 1, 'within the refetch interval the set is not fetched again');
});

test('a rotated key appears after a refetch and is accepted', async (t) => {

    const auth = authServer(jwks(ed));
    const time = clock();
    const server = await api(t, auth.base, { JWKS_REFETCH_INTERVAL_S: '1' }, time);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);

    auth.state.answer = jwks(ed, edRotated);
    time.nowMs += 1000;

    t.is((await list(server, betterAuthToken(edRotated, auth.base))).statusCode, 200);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
    t.is(auth.state.fetches, 2);
});

test('a key withdrawn from the key set stops at the next refresh, also for a token already remembered', async (t) => {

    const auth = authServer(jwks(ed, edRotated));
    const time = clock();
    const server = await api(t, auth.base, { JWKS_REFETCH_INTERVAL_S: '1' }, time);
    const seen: unknown[] = [];
    server.server.ext('onPostAuth', (request, h) => {

        seen.push(request.auth.artifacts);
        return h.continue;
    });

    const token = betterAuthToken(ed, auth.base);
    t.is((await list(server, token)).statusCode, 200);
    t.is((await list(server, token)).statusCode, 200);
    t.is(seen[1], seen[0], 'remembered: the second request used the first one\'s verification');

    auth.state.answer = jwks(edRotated);
    time.nowMs += 1000;

    // An unknown kid refreshes the set, which no longer holds ed-1.
    t.is((await list(server, betterAuthToken(pair('unknown', 'ed25519', 'EdDSA'), auth.base))).statusCode, 401);
    t.is(auth.state.fetches, 2);

    t.is((await list(server, token)).statusCode, 401);
    t.is((await list(server, betterAuthToken(edRotated, auth.base))).statusCode, 200, 'the key still served still works');
});

test('a revoked RS256 key stops its remembered token at the background refresh past JWKS_MAX_AGE_S; the EdDSA key still served keeps working', async (t) => {

    const auth = authServer(jwks(rsa, ed));
    const time = clock();
    const server = await api(t, auth.base, { JWKS_MAX_AGE_S: '600', JWKS_REFETCH_INTERVAL_S: '30' }, time);
    const seen: unknown[] = [];
    server.server.ext('onPostAuth', (request, h) => {

        seen.push(request.auth.artifacts);
        return h.continue;
    });

    const revoked = betterAuthToken(rsa, auth.base, { userId: 'user-a' });
    const kept = betterAuthToken(ed, auth.base, { userId: 'user-b' });
    for (const token of [revoked, kept, revoked, kept]) {
        t.is((await list(server, token)).statusCode, 200);
    }

    t.is(seen[2], seen[0], 'the RS256 token is remembered');
    t.is(auth.state.fetches, 1);

    // Better Auth revokes the RS256 key. Remembered tokens are not checked against the key set, so nothing notices
    // yet: the set is fresh, and a token verified now is verified with the keys it holds.
    auth.state.answer = jwks(ed);
    t.is((await list(server, revoked)).statusCode, 200);

    // Past JWKS_MAX_AGE_S, the next token checked against the set (a new one of the key still served) is answered
    // with the known key and refreshes the set behind it.
    time.nowMs += 601_000;
    t.is((await list(server, betterAuthToken(ed, auth.base, { userId: 'user-c' }))).statusCode, 200);
    await waitFor('the background refresh', () => auth.state.fetches === 2);
    await waitFor('the refresh to withdraw the RS256 key', async () => (await list(server, revoked)).statusCode === 401, { withinMs: 5000 });

    const refused = await list(server, revoked);
    t.is(refused.statusCode, 401);
    t.deepEqual(refused.result, { detail: 'Invalid authentication credentials' });
    t.is((await list(server, kept)).statusCode, 200, 'the EdDSA token, remembered, still works');
    t.is((await list(server, betterAuthToken(ed, auth.base, { userId: 'user-d' }))).statusCode, 200, 'and so do new ones');
    t.is(auth.state.fetches, 2, 'the revoked kid, now unknown, did not fetch again within the refetch interval');
});

test('a key set that goes down: known keys keep working, unknown ones get 401, never a 500', async (t) => {

    const auth = authServer(jwks(ed));
    const time = clock();
    const server = await api(t, auth.base, { JWKS_REFETCH_INTERVAL_S: '1' }, time);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);

    auth.state.answer = () => [503, 'Service Unavailable'];
    time.nowMs += 1000;

    t.is((await list(server, betterAuthToken(edRotated, auth.base))).statusCode, 401);
    t.is(auth.state.fetches, 2);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);

    const health = await server.request({ method: 'GET', url: '/health' });
    t.is(health.statusCode, 200);
    t.is((health.result as { jwks: string }).jwks, 'stale');
});

test('/health reports keys older than JWKS_MAX_STALE_S as expired, a 200 all the same', async (t) => {

    const auth = authServer(jwks(ed));
    const server = await api(t, auth.base);

    // The route reports the server's key set, here one on a clock of the test's own.
    let nowMs = Date.now();
    const keySet = new JwksKeySet(server.config.auth.jwks!, () => undefined, () => nowMs);
    server.server.app.jwks = keySet;
    await keySet.refresh();
    t.like((await server.request({ method: 'GET', url: '/health' })).result, { status: 'ok', jwks: 'ok' });

    auth.state.answer = () => [503, 'Service Unavailable'];
    nowMs += 86_401_000;
    await keySet.refresh();

    const health = await server.request({ method: 'GET', url: '/health' });
    t.is(health.statusCode, 200);
    t.like(health.result, { status: 'ok', jwks: 'expired' });
});

test('a key set that is down from the start: the server starts, HS256 works, kid tokens get 401', async (t) => {

    const auth = authServer(() => [500, { error: 'boom' }]);
    const server = await api(t, auth.base, { PORT: '0' });
    await server.server.start();

    t.is((await list(server, server.token('hs-user'))).statusCode, 200);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 401);

    const health = await server.request({ method: 'GET', url: '/health' });
    t.is(health.statusCode, 200);
    t.like(health.result, { status: 'ok', jwks: 'unreachable' });
});

test('a key set answer that is not a key set counts as a failed fetch', async (t) => {

    for (const answer of [() => [200, '<html>login</html>'], () => [200, { keys: 'none' }], () => [200, []]] as (() => [number, unknown])[]) {
        const auth = authServer(answer);
        const server = await api(t, auth.base);
        t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 401);
        t.is((await server.request({ method: 'GET', url: '/health' })).statusCode, 200);
        t.like((await server.request({ method: 'GET', url: '/health' })).result, { jwks: 'unreachable' });
    }
});

test('junk entries in the key set are skipped; the good keys still work', async (t) => {

    const junk = [
        { kty: 'OKP', crv: 'Ed25519', x: ed.publicJwk.x },                                    // no kid
        { kid: 'secret', kty: 'oct', k: Buffer.from(testSecret).toString('base64url') },      // a symmetric key
        { kid: 'broken', kty: 'OKP', crv: 'Ed25519', x: '!!!' },                              // not a key
        { ...edRotated.publicJwk, kid: 'enc', use: 'enc' },                                   // not for signatures
        { ...edRotated.publicJwk, kid: 'mislabelled', alg: 'RS256' },                         // alg that does not fit
        'a string',
        null
    ];

    const auth = authServer(() => [200, { keys: [...junk, ed.publicJwk, rsa.publicJwk] }]);
    const server = await api(t, auth.base);

    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
    t.is((await list(server, betterAuthToken(rsa, auth.base))).statusCode, 200);
    t.is((await list(server, betterAuthToken({ ...edRotated, signing: { ...edRotated.signing, kid: 'enc' } }, auth.base))).statusCode, 401);
    t.is((await list(server, betterAuthToken({ ...edRotated, signing: { ...edRotated.signing, kid: 'mislabelled' } }, auth.base))).statusCode, 401);

    // An HS256 token naming the symmetric entry is checked against the shared secret only.
    const hmacWithJwkSecret = signHs256({ alg: 'HS256', kid: 'secret' }, { sub: 'x', exp: nowSec() + 60 }, 'not-the-secret-but-long-enough-000000000');
    t.is((await list(server, hmacWithJwkSecret)).statusCode, 401);
});

test('a token signed with an RSA key under 2048 bits is refused, the 2048-bit key beside it works', async (t) => {

    const auth = authServer(() => [200, { keys: [...shortRsa.map((k) => k.publicJwk), rsa.publicJwk] }]);
    const server = await api(t, auth.base);

    for (const { kid, privateKey } of shortRsa) {
        // Signed by hand: signingKeyFromJwk refuses such a key.
        const claims = { sub: 'factored', iss: auth.base, aud: auth.base, iat: nowSec(), exp: nowSec() + 900 };
        const token = Jwt.token.generate(claims, { key: privateKey as unknown as Buffer, algorithm: 'RS256' }, { typ: false, header: { kid } });
        t.is((await list(server, token)).statusCode, 401, kid);
    }

    t.is((await list(server, betterAuthToken(rsa, auth.base))).statusCode, 200);
});

test('an HS256 token carrying a public key\'s kid, signed with that public key, is refused', async (t) => {

    const auth = authServer(jwks(ed, rsa));
    const server = await api(t, auth.base);
    const claims = { sub: 'attacker', iss: auth.base, aud: auth.base, iat: nowSec(), exp: nowSec() + 900 };

    const rsaPem = Crypto.createPublicKey({ key: rsa.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    for (const [kid, material] of [['rsa-1', rsaPem], ['ed-1', ed.publicJwk.x!], ['ed-1', JSON.stringify(ed.publicJwk)]]) {
        t.is((await list(server, signHs256({ alg: 'HS256', kid }, claims, material))).statusCode, 401, kid);
    }
});

test('a token whose alg does not match its key is refused', async (t) => {

    const auth = authServer(jwks(ed, rsa, ec));
    const server = await api(t, auth.base);

    // RS256 signature presented under the ES256 key's kid, and a PS256 claim on an RS256-only key.
    t.is((await list(server, betterAuthToken({ ...rsa, signing: { ...rsa.signing, kid: 'ec-1' } }, auth.base))).statusCode, 401);
    t.is((await list(server, betterAuthToken({ ...rsa, signing: { ...rsa.signing, algorithm: 'PS256' } }, auth.base))).statusCode, 401);
    t.is((await list(server, betterAuthToken({ ...ed, signing: { ...ed.signing, kid: 'rsa-1' } }, auth.base))).statusCode, 401);
});

test('an ES256 token with a malformed signature is a 401, not a 500', async (t) => {

    const auth = authServer(jwks(ec));
    const server = await api(t, auth.base);
    const [header, payload] = betterAuthToken(ec, auth.base).split('.');

    for (const signature of ['', 'AAAA', Buffer.alloc(63).toString('base64url'), Buffer.alloc(200).toString('base64url')]) {
        const res = await list(server, `${header}.${payload}.${signature}`);
        t.is(res.statusCode, 401, `signature of ${signature.length} characters`);
    }
});

test('iss and aud must be Better Auth\'s base URL (trailing slashes aside)', async (t) => {

    const auth = authServer(jwks(ed));
    const server = await api(t, `${auth.base}/`);

    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
    t.is((await list(server, betterAuthToken(ed, auth.base, { issuer: `${auth.base}/` }))).statusCode, 200);
    t.is((await list(server, betterAuthToken(ed, auth.base, { issuer: 'https://evil.example.test' }))).statusCode, 401);
    t.is((await list(server, betterAuthToken(ed, auth.base, { audience: 'https://other-app.example.test' }))).statusCode, 401);

    // The frontend's HS256 tokens are not held to Better Auth's iss/aud.
    t.is((await list(server, server.token('hs-user'))).statusCode, 200);
});

test('the refetch limit holds under 100 requests with bad kids', async (t) => {

    const auth = authServer(jwks(ed));
    const server = await api(t, auth.base);

    const bad = Array.from({ length: 100 }, (_, i) => betterAuthToken({ ...ed, signing: { ...ed.signing, kid: `garbage-${i}` } }, auth.base));
    const concurrent = await Promise.all(bad.map((token) => list(server, token)));
    t.true(concurrent.every((res) => res.statusCode === 401));
    t.is(auth.state.fetches, 1, 'one fetch, shared by every request waiting for it');

    for (const token of bad) {
        t.is((await list(server, token)).statusCode, 401);
    }

    t.is(auth.state.fetches, 1);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
});

test('JWT_ALLOW_HS256=false trusts the key set only; no secret is needed', async (t) => {

    const auth = authServer(jwks(ed));
    const server = await api(t, auth.base, { JWT_ALLOW_HS256: 'false', BETTER_AUTH_SECRET: '' });

    t.is(server.config.auth.secret, null);
    t.is((await list(server, betterAuthToken(ed, auth.base))).statusCode, 200);
    t.is((await list(server, signHs256({ alg: 'HS256', typ: 'JWT' }, { user_id: 'u', exp: nowSec() + 60 }, testSecret))).statusCode, 401);
});
