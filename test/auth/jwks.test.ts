import Crypto from 'node:crypto';
import { Readable } from 'node:stream';

import test from 'ava';
import nock from 'nock';

import { JwksKeySet, importJwks, maxJwksBytes } from '../../src/auth/jwks';
import { signingKeyFromJwk } from '../../src/auth/tokens';
import type { JwksConfig } from '../../src/config';


const key = (kid: string) => ({ ...Crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' });

const rsa = (kid: string, modulusLength: number) => {

    const { privateKey, publicKey } = Crypto.generateKeyPairSync('rsa', { modulusLength });
    return { kid, privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256' }, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256' } };
};

// Made before any test runs: generating an RSA key blocks the event loop, and with it other tests' fetches.
const rsaKeys = [rsa('rsa-512', 512), rsa('rsa-1024', 1024), rsa('rsa-2048', 2048)];

let hosts = 0;

type Answer = () => [number, unknown] | [number, unknown, Record<string, string>];

function keySet(answers: Answer[], settings: Partial<JwksConfig> = {}) {

    const base = `https://keyset-${++hosts}.example.test`;
    const state = { fetches: 0, now: 1_000_000, logs: [] as { tags: string[]; data: object }[] };
    nock(base).persist().get('/jwks').reply(() => answers[Math.min(state.fetches++, answers.length - 1)]());

    const config: JwksConfig = { url: `${base}/jwks`, baseUrl: base, refetchIntervalSec: 30, maxAgeSec: 600, maxStaleSec: 86_400, timeoutMs: 10_000, ...settings };
    const set = new JwksKeySet(config, (tags, data) => state.logs.push({ tags, data }), () => state.now);
    return { set, state };
}


test.after.always(() => {

    nock.cleanAll();
});


test('state: unreachable before any key, ok after a fetch, stale when a refresh fails', async (t) => {

    const a = key('a');
    const { set, state } = keySet([() => [200, { keys: [a] }], () => [502, 'bad gateway']]);
    t.is(set.state(), 'unreachable');

    t.truthy(await set.find('a'));
    t.is(set.state(), 'ok');

    state.now += 31_000;
    t.is(await set.find('b'), null);
    t.is(state.fetches, 2);
    t.is(set.state(), 'stale');
    t.truthy(await set.find('a'), 'the known key is still served');

    const failure = state.logs.find((entry) => entry.tags.includes('jwks') && entry.tags.includes('error'));
    t.like(failure?.data, { msg: 'could not fetch the key set; known keys stay in use', reason: 'HTTP 502' });
});

test('a known key older than the max age is served at once and refreshed in the background', async (t) => {

    const a = key('a');
    const { set, state } = keySet([() => [200, { keys: [a] }], () => [200, { keys: [] }]]);
    t.truthy(await set.find('a'));

    state.now += 601_000;
    t.truthy(await set.find('a'), 'served from the cache while the refresh runs');
    await set.refresh();                                // waits for the refresh under way
    t.is(state.fetches, 2);

    t.is(await set.find('a'), null, 'a key removed from the set (revoked) stops working');
});

test('keys not refreshed for twice the max age are stale even without a failure', async (t) => {

    const { set, state } = keySet([() => [200, { keys: [key('a')] }]], { refetchIntervalSec: 3600 });
    await set.refresh();
    t.is(set.state(), 'ok');

    state.now += 1_201_000;
    t.is(set.state(), 'stale');
});

test('keys older than JWKS_MAX_STALE_S verify nothing while the auth server is unreachable, and again once it answers', async (t) => {

    let up = true;
    const { set, state } = keySet([() => (up ? [200, { keys: [key('a')] }] : [503, 'down'])], { maxAgeSec: 600, maxStaleSec: 3600 });
    t.truthy(await set.find('a'));
    t.is(set.trustedUntilSec(), 1000 + 3600);

    up = false;
    state.now += 3_000_000;
    t.truthy(await set.find('a'), 'older than the max age, within the max stale: served while the refresh fails');
    await set.refresh();
    t.is(set.state(), 'stale');

    state.now += 601_000;
    t.is(set.state(), 'expired');
    t.is(await set.find('a'), null);
    t.is(state.fetches, 3, 'the expired key asked for a fetch');
    t.like(state.logs.at(-1)?.data, { msg: 'could not fetch the key set; the known keys are older than JWKS_MAX_STALE_S and verify no token', reason: 'HTTP 503' });

    up = true;
    state.now += 30_000;
    t.truthy(await set.find('a'), 'a successful fetch brings the keys back');
    t.is(set.state(), 'ok');
    t.is(set.trustedUntilSec(), 4631 + 3600);
});

test('a fetch that takes too long fails, and is logged as such', async (t) => {

    const base = `https://keyset-slow.example.test`;
    nock(base).get('/jwks').delay(2000).reply(200, { keys: [] });
    const logs: object[] = [];
    const set = new JwksKeySet({ url: `${base}/jwks`, baseUrl: base, refetchIntervalSec: 30, maxAgeSec: 600, maxStaleSec: 86_400, timeoutMs: 200 }, (_tags, data) => logs.push(data));

    t.is(await set.find('a'), null);
    t.is(set.state(), 'unreachable');
    t.like(logs[0], { reason: 'no answer within 200 ms' });
});

test('a redirect is refused, not followed, and logged with its status and Location', async (t) => {

    const elsewhere = nock('http://169.254.169.254').get('/latest/meta-data').reply(200, { keys: [key('a')] });
    const { set, state } = keySet([() => [302, '', { location: 'http://169.254.169.254/latest/meta-data' }]]);

    t.is(await set.find('a'), null);
    t.is(state.fetches, 1);
    t.false(elsewhere.isDone(), 'the address redirected to is never requested');
    t.is(set.state(), 'unreachable');

    const failures = state.logs.filter((entry) => entry.tags.includes('jwks'));
    t.is(failures.length, 1);
    t.like(failures[0].data, {
        msg: 'could not fetch the key set; known keys stay in use',
        reason: 'HTTP 302, a redirect to http://169.254.169.254/latest/meta-data, not followed',
        status: 302,
        location: 'http://169.254.169.254/latest/meta-data'
    });
});

test('a body over the bound is refused, whatever its Content-Length says; the known keys stay in use', async (t) => {

    const a = key('a');
    const b = key('b');

    // A document of exactly `bytes` bytes: the keys, padded.
    const document = (bytes: number, ...keys: object[]) => {

        const bare = JSON.stringify({ keys, padding: '' });
        return `${bare.slice(0, -2)}${'x'.repeat(bytes - bare.length)}"}`;
    };

    const atBound = document(maxJwksBytes, a);
    t.is(Buffer.byteLength(atBound), maxJwksBytes);
    const over = document(maxJwksBytes + 1, a, b);

    const answers: Answer[] = [
        () => [200, atBound],
        () => [200, over],                                                          // honest Content-Length
        () => [200, over, { 'content-length': '100' }],                           // a lie
        () => [200, Readable.from([over.slice(0, 200_000), over.slice(200_000)])]   // none: chunked
    ];

    const { set, state } = keySet(answers, { refetchIntervalSec: 1 });
    t.truthy(await set.find('a'), 'a body at the bound is read');

    for (let fetches = 2; fetches <= 4; ++fetches) {
        state.now += 1000;
        t.is(await set.find('b'), null);
        t.is(state.fetches, fetches);
        t.is(set.state(), 'stale');
        t.truthy(await set.find('a'), 'the known key is still served');
    }

    const refusals = state.logs.filter((entry) => entry.tags.includes('error'));
    t.is(refusals.length, 3);
    for (const refusal of refusals) {
        t.like(refusal.data, { reason: 'more than 256 KiB, not read further', maxBytes: maxJwksBytes });
    }
});

test('a fetch that withdraws keys (gone, or a kid now naming another key) tells the listeners which', async (t) => {

    const [a, b, c] = [key('a'), key('b'), key('c')];
    const { set, state } = keySet([() => [200, { keys: [a, b, c] }], () => [200, { keys: [a, b, c] }], () => [200, { keys: [a, key('b')] }]], { refetchIntervalSec: 1 });
    const withdrawn: string[][] = [];
    set.onKeysWithdrawn((kids) => withdrawn.push([...kids]));

    await set.refresh();
    state.now += 1000;
    await set.refresh();
    t.deepEqual(withdrawn, [], 'the same set withdraws nothing');

    state.now += 1000;
    await set.refresh();
    t.deepEqual(withdrawn, [['b', 'c']]);
    t.like(state.logs.find((entry) => entry.tags.includes('info'))?.data, { msg: 'keys withdrawn from the key set verify no token from now on', kids: ['b', 'c'] });
});

test('importJwks keeps signature keys with a kid and skips the rest', (t) => {

    const good = key('good');
    const { keys, skipped } = importJwks({ keys: [good, { kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' }, { ...key('enc'), use: 'enc' }, { ...key('x'), kid: undefined }, 42] });
    t.deepEqual([...keys.keys()], ['good']);
    t.deepEqual(keys.get('good')!.algorithms, ['EdDSA']);
    t.is(skipped, 4);

    t.throws(() => importJwks({ nope: [] }), { message: 'the document has no "keys" array' });
});

test('RSA keys under 2048 bits are skipped, named in the log, and refused for signing', async (t) => {

    const imported = importJwks({ keys: rsaKeys.map((k) => k.publicJwk) });
    t.deepEqual([...imported.keys.keys()], ['rsa-2048']);
    t.is(imported.skipped, 2);
    t.deepEqual(imported.shortRsa, [{ kid: 'rsa-512', bits: 512 }, { kid: 'rsa-1024', bits: 1024 }]);

    const { set, state } = keySet([() => [200, { keys: rsaKeys.map((k) => k.publicJwk) }]]);
    t.is(await set.find('rsa-512'), null);
    t.truthy(await set.find('rsa-2048'));
    t.like(state.logs.find((entry) => entry.tags.includes('warn'))?.data, {
        msg: 'skipped unusable entries of the key set',
        skipped: 2,
        shortRsaKeys: ['rsa-512 (512 bits)', 'rsa-1024 (1024 bits)']
    });

    for (const short of rsaKeys.slice(0, 2)) {
        t.throws(() => signingKeyFromJwk(short.privateJwk), { message: `an RSA key of ${short.kid.slice(4)} bits is too short to sign with: the key set refuses RSA keys under 2048 bits` });
    }

    t.like(signingKeyFromJwk(rsaKeys[2].privateJwk), { algorithm: 'RS256', kid: 'rsa-2048' });
});
