import Crypto from 'node:crypto';
import Zlib from 'node:zlib';

import { fc, test, testProp } from '@fast-check/ava';
import type { ExecutionContext } from 'ava';
import Ajv2020 from 'ajv/dist/2020';
import nock from 'nock';

import { mintToken, signingKeyFromJwk } from '../../src/auth/tokens';
import type { Task } from '../../src/data/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi, testSecret } from '../helpers/api';
import { contract, contractViolations } from '../helpers/contract';
import type { FuzzRequest } from '../helpers/fuzz';
import { documentedOperations, fuzzRequests, keySetKids } from '../helpers/fuzz';
import { signHs256 } from '../helpers/tokens';


// FUZZ_RUNS=N for more (or fewer) requests; FUZZ_SEED=S replays a run whose seed a failure printed. The requests go
// out in rounds of 1000, each a test of its own (so no single test runs long), each seeded from S.
const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const seed = process.env.FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.FUZZ_SEED);
const roundSize = 1000;

const users = [`fuzz-a-${Crypto.randomUUID()}`, `fuzz-b-${Crypto.randomUUID()}`] as const;

// Better Auth's key set, served by nock: an Ed25519 key to sign with, and an EC key.
const authBase = 'https://auth.fuzz.test';
const [edKid, ecKid] = keySetKids;
const edPair = Crypto.generateKeyPairSync('ed25519');
const ecPair = Crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const edSigning = signingKeyFromJwk({ ...edPair.privateKey.export({ format: 'jwk' }), kid: edKid, alg: 'EdDSA' });

const internals = {
    api: null as unknown as TestApi,
    // What each user created and did not delete: all of it must still be there at the end, and nothing else.
    owned: new Map<string, string[]>(users.map((user) => [user, []])),
    statuses: new Map<number, number>(),
    // Guards the generator: without accepted requests of both kinds the fuzzer would only be testing refusals.
    accepted: { secret: 0, keySet: 0 },

    errorShape: new Ajv2020({ strict: false }).compile({
        oneOf: [contract.components.schemas.Error, {
            ...contract.components.schemas.ValidationError,
            properties: { detail: { type: 'array', minItems: 1, items: contract.components.schemas.ValidationIssue } }
        }]
    }),

    // Responses are compressed when the client asks (Accept-Encoding); the oracles read what the client would.
    decoded(raw: Buffer, encoding: unknown): string {

        switch (encoding) {
            case 'gzip':
                return Zlib.gunzipSync(raw).toString('utf8');
            case 'deflate':
                return Zlib.inflateSync(raw).toString('utf8');
            case 'br':
                return Zlib.brotliDecompressSync(raw).toString('utf8');
            default:
                return raw.toString('utf8');
        }
    },

    segment(value: string): string {

        try {
            return encodeURIComponent(value);
        }
        catch {
            // A lone surrogate has no UTF-8 form: send the bytes a careless client would (its WTF-8 encoding).
            return [...value].map((char) => {

                const unit = char.charCodeAt(0);
                if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
                    return `%${(0xe0 | (unit >> 12)).toString(16)}%${(0x80 | ((unit >> 6) & 0x3f)).toString(16)}%${(0x80 | (unit & 0x3f)).toString(16)}`.toUpperCase();
                }

                return encodeURIComponent(char);
            }).join('');
        }
    },

    /** The token's user, when the request carries a token that names one. */
    tokenUser(request: FuzzRequest): string | null {

        if (request.auth === 'owner' || request.auth === 'owner-keyset') {
            return users[request.actor];
        }

        if (typeof request.auth === 'object' && request.auth.kind === 'signed') {
            const { user_id: userId, sub } = request.auth.payload;
            return typeof (userId ?? sub) === 'string' ? String(userId ?? sub) : null;
        }

        return null;
    },

    taskId(request: FuzzRequest): string {

        const { id } = request;
        if ('value' in id) {
            return id.kind === 'raw' ? internals.segment(id.value) : id.value;
        }

        const owner = id.kind === 'own' ? users[request.actor] : users[1 - request.actor];
        const ids = internals.owned.get(owner)!;
        return id.kind === 'fresh' || !ids.length ? Crypto.randomUUID() : ids[id.pick % ids.length];
    },

    authorization(request: FuzzRequest): string | undefined {

        const { auth } = request;
        if (auth === 'none') {
            return undefined;
        }

        if (auth === 'owner') {
            return `Bearer ${internals.api.token(users[request.actor])}`;
        }

        if (auth === 'owner-keyset') {
            const { token } = mintToken(internals.api.config.auth, { userId: users[request.actor], ttlSec: 600, claim: 'sub', signingKey: edSigning });
            return `Bearer ${token}`;
        }

        return auth.kind === 'raw' ? auth.value : `Bearer ${signHs256(auth.header, auth.payload, testSecret)}`;
    },

    tasksIn(body: unknown): Task[] {

        const list = Array.isArray(body) ? body : [body];
        return list.filter((item): item is Task => Boolean(item) && typeof item === 'object' && typeof (item as Task).id === 'string' && 'user_id' in item);
    },

    async reload(user: string): Promise<void> {

        const ids: string[] = [];
        let after;
        do {
            const page = await internals.api.tasks.listTasksForUser(user, { limit: 100, after });
            ids.push(...page.tasks.map((task) => task.id));
            after = page.next ?? undefined;
        } while (after);

        internals.owned.set(user, ids);
    }
};


test.before(async () => {

    nock(authBase).persist().get('/api/auth/jwks').reply(200, {
        keys: [
            { ...edPair.publicKey.export({ format: 'jwk' }), kid: edKid, alg: 'EdDSA' },
            { ...ecPair.publicKey.export({ format: 'jwk' }), kid: ecKid, alg: 'ES256' }
        ]
    });

    internals.api = await startTestApi({ BETTER_AUTH_URL: authBase });
    for (const user of users) {
        for (let i = 0; i < 3; ++i) {
            internals.owned.get(user)!.push((await internals.api.createTask(user, { title: `seeded ${i}` })).id);
        }
    }
});

test.after.always(async () => {

    await internals.api?.stop();
    nock.cleanAll();
});


async function send(t: ExecutionContext, request: FuzzRequest): Promise<void> {

    const id = internals.taskId(request);
    const path = request.path.replace('{id}', id);
    const query = request.query.map(([name, value]) => `${internals.segment(name)}=${internals.segment(value)}`).join('&');
    const url = query ? `${path}?${query}` : path;

    const headers: Record<string, string> = Object.fromEntries(request.headers);
    const authorization = internals.authorization(request);
    if (authorization !== undefined) {
        headers.authorization = authorization;
    }

    if (request.contentType !== null && request.body.kind !== 'none') {
        headers['content-type'] = request.contentType;
    }

    const payload = request.body.kind === 'none' ? undefined : request.body.kind === 'raw' ? request.body.value : JSON.stringify(request.body.value);
    const injected = await internals.api.server.inject({ method: request.method, url, headers, payload });
    const response = { ...injected, payload: internals.decoded(injected.rawPayload, injected.headers['content-encoding']) };
    const status = response.statusCode;
    internals.statuses.set(status, (internals.statuses.get(status) ?? 0) + 1);

    if (status < 300 && (request.auth === 'owner' || request.auth === 'owner-keyset')) {
        ++internals.accepted[request.auth === 'owner' ? 'secret' : 'keySet'];
    }

    const described = `${request.method} ${url} -> ${status} ${response.payload.slice(0, 300)}`;
    t.true(status < 500, `a 5xx: ${described}`);

    let body: unknown;
    if (response.payload && request.method !== 'HEAD' && String(response.headers['content-type']).startsWith('application/json')) {
        body = JSON.parse(response.payload);
    }

    if (status >= 400 && request.method !== 'HEAD') {
        t.true(internals.errorShape(body), `an error outside the documented shape: ${described}`);
    }

    // Undocumented paths and methods answer 404 (hapi does not answer 405), HEAD answers as GET without the body;
    // everything else is held to the contract.
    if (request.method !== 'HEAD') {
        const violations = contractViolations(request.method, url, response);
        const undocumented = violations.length === 1 && /(matches no path|is not in openapi.yaml)/.test(violations[0]) && status === 404;
        t.deepEqual(undocumented ? [] : violations, [], described);
    }

    // Isolation: whatever a user gets back is theirs, and another user's task id is a task that does not exist.
    const user = internals.tokenUser(request) ?? '';
    for (const task of internals.tasksIn(body)) {
        t.is(task.user_id, user, `another user's task in the answer: ${described}`);
    }

    if (request.id.kind === 'foreign' && request.path.includes('{id}') && status < 300) {
        const foreignOwner = users[1 - request.actor];
        t.false(internals.owned.get(foreignOwner)!.includes(id) && user !== foreignOwner, `another user's task was reached: ${described}`);
    }

    // The model: what the two users created and deleted.
    if (internals.owned.has(user) && status < 300) {
        if (request.method === 'POST' && request.path === '/api/tasks' && status === 201) {
            internals.owned.get(user)!.push((body as Task).id);
        }
        else if (request.method === 'DELETE' && request.path === '/api/tasks/{id}' && status === 204) {
            internals.owned.set(user, internals.owned.get(user)!.filter((owned) => owned !== id));
        }
        else if (request.method === 'DELETE' && request.path === '/api/tasks') {
            await internals.reload(user);
        }
    }
}


const requests = fuzzRequests(documentedOperations());
for (let round = 0; round * roundSize < runs; ++round) {
    const numRuns = Math.min(roundSize, runs - round * roundSize);
    testProp.serial(`FUZZ_SEED=${seed} round ${round + 1}: ${numRuns} generated requests: never a 5xx, errors in the documented shape, answers by the contract, each user's tasks their own`,
        [requests], send, { numRuns, seed: seed + round, endOnFailure: true });
}


test.serial('nothing a user created and did not delete disappeared, and nothing else appeared', async (t) => {

    for (const user of users) {
        const expected = [...internals.owned.get(user)!].sort();
        await internals.reload(user);
        t.deepEqual([...internals.owned.get(user)!].sort(), expected, user);
    }

    const total = [...internals.statuses.values()].reduce((sum, count) => sum + count, 0);
    t.log(`${total} requests; statuses: ${[...internals.statuses.entries()].sort().map(([status, count]) => `${status}×${count}`).join(' ')}`);
    t.true(total >= runs, 'every generated request was sent');
    t.log(`accepted: ${internals.accepted.secret} with HS256 tokens, ${internals.accepted.keySet} with key-set tokens`);
    t.true(internals.accepted.secret > runs / 10 && internals.accepted.keySet > runs / 40, 'both kinds of token were accepted often');
});


test.serial('the generator reaches every documented operation', (t) => {

    const operations = documentedOperations();
    const seen = new Set(fc.sample(fuzzRequests(operations), { numRuns: 2000, seed: 1 }).map((request) => `${request.method} ${request.path}`));
    for (const operation of operations) {
        t.true(seen.has(`${operation.method} ${operation.path}`), `${operation.method} ${operation.path}`);
    }
});
