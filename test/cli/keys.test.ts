import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import Jwt from '@hapi/jwt';
import test from 'ava';
import nock from 'nock';

import { run } from '../../cli/main';
import { startTestApi } from '../helpers/api';


async function todoAdmin(argv: string[], env: Record<string, string> = {}) {

    let stdout = '';
    let stderr = '';
    const code = await run(argv, { env, out: (text) => (stdout += text), err: (text) => (stderr += text), progressStream: null });
    return { code, stdout, stderr };
}


test.after.always(() => {

    nock.cleanAll();
});


test('keys generate writes a private JWK and a public JWKS; mint-token --key signs tokens the server accepts', async (t) => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-keys-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));

    const generated = await todoAdmin(['keys', 'generate', '--out-dir', dir, '--kid', 'ops-key-1', '--json']);
    t.is(generated.code, 0);
    t.deepEqual(JSON.parse(generated.stdout), { kid: 'ops-key-1', privateKey: Path.join(dir, 'signing.jwk'), jwks: Path.join(dir, 'jwks.json') });

    const privateJwk = JSON.parse(Fs.readFileSync(Path.join(dir, 'signing.jwk'), 'utf8'));
    t.like(privateJwk, { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: 'ops-key-1' });
    t.is(typeof privateJwk.d, 'string');
    t.is(Fs.statSync(Path.join(dir, 'signing.jwk')).mode & 0o777, 0o600);

    const jwks = JSON.parse(Fs.readFileSync(Path.join(dir, 'jwks.json'), 'utf8'));
    t.is(jwks.keys.length, 1);
    t.deepEqual(Object.keys(jwks.keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'x']);

    const again = await todoAdmin(['keys', 'generate', '--out-dir', dir]);
    t.is(again.code, 2);
    t.regex(again.stderr, /exists; --force replaces it/);
    t.is((await todoAdmin(['keys', 'generate', '--out-dir', dir, '--kid', 'ops-key-2', '--force'])).code, 0);
    t.is(JSON.parse(Fs.readFileSync(Path.join(dir, 'jwks.json'), 'utf8')).keys[0].kid, 'ops-key-2');

    // A server trusting this key set (served by nock), with HS256 off and no shared secret anywhere.
    const base = 'https://keys-auth.example.test';
    nock(base).persist().get('/api/auth/jwks').reply(200, () => Fs.readFileSync(Path.join(dir, 'jwks.json'), 'utf8'));
    const env = { BETTER_AUTH_URL: base, JWT_ALLOW_HS256: 'false', BETTER_AUTH_SECRET: '' };
    const api = await startTestApi(env);
    t.teardown(() => api.stop());

    const minted = await todoAdmin(['mint-token', '--user', 'ops-user', '--claim', 'sub', '--key', Path.join(dir, 'signing.jwk')], env);
    t.is(minted.code, 0, minted.stderr);
    const token = minted.stdout.trim();
    const decoded = Jwt.token.decode(token).decoded;
    t.deepEqual(decoded.header, { alg: 'EdDSA', kid: 'ops-key-2' });
    t.like(decoded.payload, { sub: 'ops-user', iss: base, aud: base });

    const res = await api.request({ method: 'POST', url: '/api/tasks', headers: { authorization: `Bearer ${token}` }, payload: { title: 'via JWKS' } });
    t.is(res.statusCode, 201);
    t.is((res.result as { user_id: string }).user_id, 'ops-user');
});

test('mint-token --key refuses what is not a private key', async (t) => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-keys-'));
    t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
    await todoAdmin(['keys', 'generate', '--out-dir', dir]);
    Fs.writeFileSync(Path.join(dir, 'junk.jwk'), 'not json');

    for (const [file, reason] of [['missing.jwk', 'no such file'], ['junk.jwk', 'not a JSON file'], ['jwks.json', 'not a private JWK']]) {
        const result = await todoAdmin(['mint-token', '--user', 'u', '--key', Path.join(dir, file)]);
        t.is(result.code, 2, file);
        t.true(result.stderr.includes(reason), result.stderr);
        t.is(result.stdout, '');
    }
});
