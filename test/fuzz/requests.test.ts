import Crypto from 'node:crypto';
import Zlib from 'node:zlib';

import { fc, test, testProp } from '@fast-check/ava';
import type { ExecutionContext } from 'ava';
import Ajv2020 from 'ajv/dist/2020';
import nock from 'nock';

import { mintToken, signingKeyFromJwk } from '../../src/auth/tokens';
import { decodeFeedCursor, encodeCursor, encodeFeedCursor, encodeTrashCursor } from '../../src/common/cursors';
import { entityTag } from '../../src/common/entity-tags';
import type { Task } from '../../src/common/tasks';
import { isTaskId } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi, testSecret } from '../helpers/api';
import { contract, contractViolations } from '../helpers/contract';
import type { FuzzRequest } from '../helpers/fuzz';
import { cursorMarker, documentedOperations, etagMarker, fuzzRequests, idMarkers, keySetKids, syncCursorMarkers } from '../helpers/fuzz';
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
    // Each user's lists: all of them must be there at the end, and no others.
    lists: new Map<string, string[]>(users.map((user) => [user, []])),
    // Turns through the lists and tasks a marker picks from (deterministic, so that a seed replays a run).
    turn: 0,
    // What each user deleted and did not restore or remove for good: the trash at the end, exactly.
    trashed: new Map<string, string[]>(users.map((user) => [user, []])),
    // The last cursors the service gave out (either user's), by path: a request can go on from one.
    cursors: new Map<string, string>(),
    // Every task each user ever created: a replayed create must answer one of them, a fresh one none of them.
    created: new Map<string, Set<string>>(users.map((user) => [user, new Set()])),
    // Each task as the latest answer that carried it had it: what must be stored at the end.
    contents: new Map<string, Task>(),
    // The next pages each user was linked to and has not followed yet (path and query, with the real cursor).
    links: new Map<string, string[]>(users.map((user) => [user, []])),
    // The latest ETag seen for each task, and the version it was seen with.
    etags: new Map<string, { etag: string; updatedAt: string }>(),
    // A tag of the right form that names no task: what a precondition on a task never seen carries.
    unknownTag: `"${Buffer.alloc(24).toString('base64url')}"`,
    conditionalAnswers: { notModified: 0, preconditionFailed: 0, replayed: 0, cleared: 0, restored: 0, subtasks: 0, listed: 0 },
    // The feed's and the stream's cursors: resumed from one the service issued, refused (another user's, another
    // kind, tampered), and streams opened at all.
    cursorAnswers: { resumed: 0, refused: 0, streamed: 0 },
    refusedCursors: new Set<string>(Object.values(syncCursorMarkers.refused)),
    lastKeyedCreate: null as FuzzRequest | null,
    statuses: new Map<number, number>(),
    // Guards the generator: without requests to /api accepted with tokens of both kinds the fuzzer would only be
    // testing refusals (the public GETs answer 2xx whatever the token).
    accepted: { secret: 0, keySet: 0 },
    // For each documented operation, the requests sent with a valid token and the 2xx among them: an operation
    // whose requests are all refused is one the fuzzer does not test.
    operations: new Map(documentedOperations().map(({ method, path }) => [`${method} ${path}`, { sent: 0, succeeded: 0 }])),

    // The share of 2xx each operation must reach (of at least 200 requests, so that chance does not decide): in runs
    // of 10 000 the task operations get 4-50%, PUT and PATCH of a task the least (most requests aim at a task that is
    // not the user's, or send a body that is refused), the public ones nearly all. 2% of 200 is still 4 successes: an
    // operation the generator reaches, which is what this guards.
    minimumShare(operation: string, sent: number): number {

        if (sent < 200) {
            return 0;
        }

        // A trashed task's routes find the trash empty most of the time: it is emptied (DELETE /api/trash, which
        // nearly always succeeds) as often as tasks are deleted, and with subtasks each purge removes several. Runs of
        // 10 000 got them 2-10%.
        if (operation.includes(' /api/trash/{id}')) {
            return 0.01;
        }

        return operation.includes(' /api/') ? 0.02 : 0.9;
    },

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

    /**
     * What a cursor marker stands for, for the request's actor: the cursors the service last issued, and those made
     * here (another user's, tampered, out of range, of another kind).
     */
    fillCursors(value: string, request: FuzzRequest): string {

        const own = users[request.actor];
        const other = users[1 - request.actor];
        const anyTask = internals.contents.values().next().value as Task;
        const made: Record<string, () => string> = {
            [cursorMarker]: () => internals.cursors.get(request.path === '/api/changes/stream' ? '/api/changes' : request.path) ?? '',
            [syncCursorMarkers.refused.foreign]: () => encodeFeedCursor(other, 1),
            [syncCursorMarkers.refused.tampered]: () => {

                const cursor = encodeFeedCursor(own, 1);
                return `${cursor.slice(0, 16)}${cursor[16] === 'A' ? 'B' : 'A'}${cursor.slice(17)}`;
            },
            [syncCursorMarkers.refused.huge]: () => encodeFeedCursor(own, Number.MAX_SAFE_INTEGER + 3),
            [syncCursorMarkers.refused.list]: () => internals.cursors.get('/api/tasks') ?? encodeCursor({ sort: 'created_at', order: 'desc', position: { key: anyTask.created_at, id: anyTask.id } }),
            [syncCursorMarkers.refused.trash]: () => internals.cursors.get('/api/trash') ?? encodeTrashCursor(1),
            [syncCursorMarkers.other.start]: () => encodeFeedCursor(own, 0),
            [syncCursorMarkers.other.ahead]: () => encodeFeedCursor(own, 1_000_000_000)
        };

        return value.replace(/<[a-z]+(?::[a-z]+)?>/g, (marker) => made[marker]?.() ?? marker);
    },

    /** A header value as a client sends it: what is not Latin-1 as its UTF-8 bytes, without what no header holds. */
    headerText(value: string): string {

        const text = /[^\u0000-\u00ff]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
        return text.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
    },

    taskId(request: FuzzRequest): string {

        const { id } = request;
        if ('value' in id) {
            return id.kind === 'raw' ? internals.segment(id.value) : id.value;
        }

        const owner = id.kind === 'own' ? users[request.actor] : users[1 - request.actor];
        // The trash's routes aim at trashed tasks, while there are some; the lists' routes at lists.
        const trashed = internals.trashed.get(owner)!;
        const ids = request.path.startsWith('/api/lists/') ? internals.lists.get(owner)! :
            request.path.startsWith('/api/trash/') && trashed.length ? trashed : internals.owned.get(owner)!;
        return id.kind === 'fresh' || !ids.length ? Crypto.randomUUID() : ids[id.pick % ids.length];
    },

    /** A text with the id markers (idMarkers) made ids of the sender's (or the other user's) lists and tasks. */
    named(text: string, actor: 0 | 1): string {

        const pick = (ids: string[]) => (ids.length ? ids[internals.turn++ % ids.length] : Crypto.randomUUID());
        return text
            .replaceAll(idMarkers.ownList, () => pick(internals.lists.get(users[actor])!))
            .replaceAll(idMarkers.foreignList, () => pick(internals.lists.get(users[1 - actor])!))
            .replaceAll(idMarkers.ownTask, () => pick(internals.owned.get(users[actor])!))
            .replaceAll(idMarkers.foreignTask, () => pick(internals.owned.get(users[1 - actor])!));
    },

    /** The user's live and trashed tasks as stored, with where each is. */
    async tree(user: string): Promise<{ live: Map<string, Task>; trash: Map<string, Task> }> {

        const live = new Map<string, Task>();
        let after;
        do {
            const page = await internals.api.tasks.listTasksForUser(user, { limit: 100, after });
            for (const task of page.tasks) {
                live.set(task.id, task);
            }

            after = page.next ?? undefined;
        } while (after);

        const trash = new Map<string, Task>();
        let next;
        do {
            const page = await internals.api.tasks.listTrashForUser(user, { limit: 100, after: next });
            for (const task of page.tasks) {
                trash.set(task.id, task);
            }

            next = page.next ?? undefined;
        } while (next !== undefined);

        return { live, trash };
    },

    async storedLists(user: string): Promise<string[]> {

        return (await internals.api.server.app.lists.listsForUser(user)).map((list) => list.id);
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

        // A feed's page holds its tasks in its changes.
        const changes = (body as { changes?: unknown })?.changes;
        if (Array.isArray(changes)) {
            return changes.map((change) => change?.task).filter(Boolean);
        }

        const list = Array.isArray(body) ? body : [body];
        return list.filter((item): item is Task => Boolean(item) && typeof item === 'object' && typeof (item as Task).id === 'string' && 'user_id' in item);
    },

    /** The ids of the user's tasks as stored (only the completed ones, when asked). */
    async storedIds(user: string, completed?: boolean): Promise<string[]> {

        const ids: string[] = [];
        let after;
        do {
            const page = await internals.api.tasks.listTasksForUser(user, { completed, limit: 100, after });
            ids.push(...page.tasks.map((task) => task.id));
            after = page.next ?? undefined;
        } while (after);

        return ids;
    },

    /** The ids of the user's trashed tasks as stored. */
    async trashIds(user: string): Promise<string[]> {

        const ids: string[] = [];
        let after;
        do {
            const page = await internals.api.tasks.listTrashForUser(user, { limit: 100, after });
            ids.push(...page.tasks.map((task) => task.id));
            after = page.next ?? undefined;
        } while (after !== undefined);

        return ids;
    },

    move(from: Map<string, string[]>, to: Map<string, string[]> | null, user: string, moved: Set<string>): void {

        from.set(user, from.get(user)!.filter((id) => !moved.has(id)));
        to?.set(user, [...to.get(user)!, ...moved]);
    },

    async reload(user: string): Promise<void> {

        internals.owned.set(user, await internals.storedIds(user));
    }
};


test.before(async () => {

    nock(authBase).persist().get('/api/auth/jwks').reply(200, {
        keys: [
            { ...edPair.publicKey.export({ format: 'jwk' }), kid: edKid, alg: 'EdDSA' },
            { ...ecPair.publicKey.export({ format: 'jwk' }), kid: ecKid, alg: 'ES256' }
        ]
    });

    // The budgets on, behind one trusted proxy, so that X-Forwarded-For counts: failed authentications run out now
    // and then (429), while the users' own budgets, counted on every request, are never reached.
    internals.api = await startTestApi({ BETTER_AUTH_URL: authBase, RATE_LIMIT_PER_MIN: '1000000', AUTH_FAILURES_PER_MIN: '300', TRUST_PROXY: '1' });
    for (const user of users) {
        for (let i = 0; i < 3; ++i) {
            const res = await internals.api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: `seeded ${i}` } });
            const task = res.result as Task;
            internals.owned.get(user)!.push(task.id);
            internals.contents.set(task.id, task);
            internals.created.get(user)!.add(task.id);
            internals.etags.set(task.id, { etag: res.headers.etag as string, updatedAt: task.updated_at });
        }
    }
});

test.after.always(async () => {

    await internals.api?.stop();
    nock.cleanAll();
});


async function send(t: ExecutionContext, generated: FuzzRequest): Promise<void> {

    const request = generated.retry && internals.lastKeyedCreate ? internals.lastKeyedCreate : generated;
    if (request.method === 'POST' && request.path === '/api/tasks' && request.headers.some(([name]) => name === 'idempotency-key')) {
        internals.lastKeyedCreate = request;
    }

    const id = internals.taskId(request);
    const path = request.path.replace('{id}', id);
    // The stream takes the feed's cursors.
    const query = request.query.map(([name, value]) => `${internals.segment(name)}=${internals.segment(internals.named(internals.fillCursors(value, request), request.actor))}`).join('&');
    const link = request.follow ? internals.links.get(users[request.actor])!.pop() : undefined;
    const url = link ?? (query ? `${path}?${query}` : path);

    const tag = internals.etags.get(id)?.etag ?? internals.unknownTag;
    const headers: Record<string, string> = Object.fromEntries(request.headers.map(([name, value]) => [name, internals.headerText(internals.fillCursors(value.replaceAll(etagMarker, tag), request))]));
    const authorization = internals.authorization(request);
    if (authorization !== undefined) {
        headers.authorization = authorization;
    }

    if (request.contentType !== null && request.body.kind !== 'none') {
        headers['content-type'] = request.contentType;
    }

    // What the oracles compare the answer with: the target task as stored before, the completed tasks before a clear.
    const user = internals.tokenUser(request) ?? '';
    const modelled = internals.owned.has(user);
    const target = modelled && request.path.includes('{id}') && isTaskId(id) ? await internals.api.tasks.getTaskForUser(user, id) : null;
    // The task the id names, whoever sends the request: unless the answer is a 2xx to its owner, it must not change.
    const owner = request.id.kind === 'own' ? users[request.actor] : request.id.kind === 'foreign' ? users[1 - request.actor] : null;
    const named = owner && request.path.includes('{id}') && isTaskId(id) ? await internals.api.tasks.getTaskForUser(owner, id) : null;
    const clearing = modelled && request.method === 'DELETE' && request.path === '/api/tasks';
    // DELETE /api/trash/ (an empty id) must not empty the trash: it is 404 (src/extensions/trailing-slash.ts).
    const emptying = modelled && request.method === 'DELETE' && ['/api/trash', '/api/trash/'].includes(new URL(url, 'http://localhost').pathname);
    const trashBefore = emptying ? await internals.trashIds(user) : [];
    // The writes that move or trash more than the task named (its subtree, a list's tasks) are checked on the user's
    // whole tree, before and after; every write may move other tasks (a move carries subtasks, a rebalance gives
    // siblings new positions).
    const routePath = new URL(url, 'http://localhost').pathname;
    const listPath = request.path.startsWith('/api/lists/');
    const treeWrite = modelled && !emptying && (clearing || (request.method === 'DELETE' && ['/api/tasks/{id}', '/api/lists/{id}', '/api/trash/{id}'].includes(request.path)) ||
        (request.method === 'POST' && request.path === '/api/trash/{id}/restore'));
    const writing = modelled && !['GET', 'HEAD', 'OPTIONS'].includes(request.method) && /^\/api\/(tasks|lists|trash)/.test(routePath);
    const treeBefore = treeWrite ? await internals.tree(user) : null;

    const payload = request.body.kind === 'none' ? undefined : internals.named(request.body.kind === 'raw' ? request.body.value : JSON.stringify(request.body.value), request.actor);
    // Where a feed or a stream resumes: its one `since`, else (the stream) Last-Event-ID.
    const feed = request.path === '/api/changes' || request.path === '/api/changes/stream';
    const sinces = request.query.filter(([name]) => name === 'since').map(([, value]) => value);
    const eventId = request.headers.find(([name]) => name === 'last-event-id')?.[1];
    const resumedFrom = !feed ? undefined : sinces.length === 1 ? sinces[0] : sinces.length === 0 && request.path === '/api/changes/stream' ? eventId : undefined;

    // A live stream does not end by itself: it is ended as soon as it opens (what it sent by then is its answer).
    const streaming = request.path === '/api/changes/stream';
    const ending = streaming ? setInterval(() => internals.api.server.app.streams.closeAll(), 5) : null;
    const injected = await internals.api.server.inject({ method: request.method, url, headers, payload }).finally(() => ending && clearInterval(ending));
    const response = { ...injected, payload: internals.decoded(injected.rawPayload, injected.headers['content-encoding']) };
    const status = response.statusCode;
    internals.statuses.set(status, (internals.statuses.get(status) ?? 0) + 1);

    const validToken = request.auth === 'owner' || request.auth === 'owner-keyset';
    if (status < 300 && validToken && new URL(url, 'http://localhost').pathname.startsWith('/api/')) {
        ++internals.accepted[request.auth === 'owner' ? 'secret' : 'keySet'];
    }

    const operation = internals.operations.get(`${request.method} ${request.path}`);
    if (operation && validToken) {
        ++operation.sent;
        operation.succeeded += status < 300 ? 1 : 0;
    }

    const described = `${request.method} ${url} -> ${status} ${response.payload.slice(0, 300)}`;
    t.true(status < 500, `a 5xx: ${described}`);
    // A DELETE of a path with a trailing slash (a task's path with an empty id) reaches no route, whoever sends it.
    t.true(request.method !== 'DELETE' || !/.\/$/.test(new URL(url, 'http://localhost').pathname) || status === 404, `a DELETE with a trailing slash was not 404: ${described}`);

    // A cursor that is not this user's feed cursor (another user's, another kind's, tampered) opens no feed.
    if (resumedFrom !== undefined && internals.refusedCursors.has(resumedFrom) && validToken) {
        t.true(status >= 400, `a feed opened from a cursor that is not the user's: ${described}`);
        internals.cursorAnswers.refused += status === 422 ? 1 : 0;
    }

    if (resumedFrom === cursorMarker && status === 200) {
        ++internals.cursorAnswers.resumed;
    }

    // A next page the service linked to is there for the user it was linked for.
    if (link && validToken && status !== 429) {
        t.is(status, 200, `a next page the service linked to was refused: ${described}`);
    }

    if (named && (status >= 300 || user !== owner)) {
        t.deepEqual(await internals.api.tasks.getTaskForUser(owner!, id), named, `a request that did not answer the task's owner with a 2xx changed it: ${described}`);
    }

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

    // Cursors to go on from: the list's and the trash's next pages, the feed's position.
    const issued = (response.headers['x-next-cursor'] as string | undefined) ?? (request.path === '/api/changes' && status === 200 ? (body as { cursor: string }).cursor : undefined);
    if (issued) {
        internals.cursors.set(request.path, issued);
    }

    // A stream's events: each data line a change, as the feed's, and each id a feed cursor of this user's.
    if (streaming && status === 200 && request.method !== 'HEAD') {
        const lines = response.payload.split('\n');
        body = { changes: lines.filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6))) };
        for (const line of lines.filter((one) => one.startsWith('id: '))) {
            t.not(decodeFeedCursor(user, line.slice(4)), null, `an event id that is not a cursor of this user's: ${described}`);
        }

        ++internals.cursorAnswers.streamed;
    }

    // Isolation: whatever a user gets back is theirs, and another user's task id is a task that does not exist.
    for (const task of internals.tasksIn(body)) {
        t.is(task.user_id, user, `another user's task in the answer: ${described}`);
        for (const other of users.filter((each) => each !== user)) {
            t.false(internals.lists.get(other)!.includes(task.list_id!), `a task in another user's list: ${described}`);
        }
    }

    // Lists carry no user id: none answered may be the other user's.
    const listsIn = (Array.isArray(body) ? body : [body, ...((body as { changes?: { list?: unknown }[] })?.changes ?? []).map((change) => change?.list)])
        .filter((item): item is { id: string } => Boolean(item) && typeof item === 'object' && 'name' in item && !('user_id' in item));
    for (const list of listsIn) {
        for (const other of users.filter((each) => each !== user)) {
            t.false(internals.lists.get(other)!.includes(list.id), `another user's list in the answer: ${described}`);
        }
    }

    // A change that is a delete names only the task's (or list's) id: one of this user's.
    const changes = (body as { changes?: { type?: string; op?: string; id?: string }[] } | undefined)?.changes;
    if (modelled && feed && Array.isArray(changes)) {
        for (const change of changes.filter((one) => one?.op === 'delete')) {
            const others = users.filter((each) => each !== user);
            if (change.type === 'list') {
                t.false(others.some((other) => internals.lists.get(other)!.includes(change.id!)), `a delete of another user's list: ${described}`);
            }
            else {
                t.true(internals.created.get(user)!.has(change.id!), `a delete of a task that is not the user's: ${described}`);
            }
        }
    }

    // Conditional requests: 304 only for a GET that asked with If-None-Match, 412 only for a write that asked with
    // If-Match, and a 412 left the task exactly as it was.
    if (status === 304) {
        t.true(['GET', 'HEAD'].includes(request.method) && ['/api/tasks/{id}', '/api/lists/{id}'].includes(request.path) && 'if-none-match' in headers, `an unasked-for 304: ${described}`);
        // With tags, only the client's own can have matched. With `*` any stored version matches, also one the
        // client never saw (a write to its parent's subtree changed it): the 304 names the stored one.
        if (headers['if-none-match']?.trim() !== '*') {
            t.is(response.headers.etag, internals.etags.get(id)?.etag, `a 304 names the version the client has: ${described}`);
        }
        else if (target && !listPath) {
            t.is(response.headers.etag, `"${entityTag(target)}"`, `a 304 to If-None-Match: * names the stored version: ${described}`);
        }
        else {
            t.truthy(response.headers.etag, `a 304 without an ETag: ${described}`);
        }

        ++internals.conditionalAnswers.notModified;
    }

    if (status === 412) {
        t.true('if-match' in headers, `a 412 without If-Match: ${described}`);
        t.deepEqual(body, { detail: listPath ? 'List was modified' : 'Task was modified' }, described);
        if (target) {
            t.deepEqual(await internals.api.tasks.getTaskForUser(user, id), target, `a 412 changed the task: ${described}`);
        }

        ++internals.conditionalAnswers.preconditionFailed;
    }

    // ETags: one per version of a task, a new one with every new version.
    const etag = response.headers.etag as string | undefined;
    if (etag && status < 300 && body && !Array.isArray(body)) {
        const task = body as Task;
        const known = internals.etags.get(task.id);
        if (known) {
            t.is(known.updatedAt === task.updated_at, known.etag === etag, `ETag ${etag} for version ${task.updated_at}, ${known.etag} for ${known.updatedAt}: ${described}`);
        }

        if (!known || task.updated_at >= known.updatedAt) {
            internals.etags.set(task.id, { etag, updatedAt: task.updated_at });
        }
    }

    if (request.id.kind === 'foreign' && request.path.includes('{id}') && status < 300) {
        const foreignOwner = users[1 - request.actor];
        const theirs = listPath ? internals.lists.get(foreignOwner)! : internals.owned.get(foreignOwner)!;
        t.false(theirs.includes(id) && user !== foreignOwner, `another user's task or list was reached: ${described}`);
    }

    if (modelled && status === 200 && request.method === 'GET' && response.headers.link) {
        const next = new URL(/^<([^>]+)>/.exec(String(response.headers.link))![1], 'http://localhost');
        internals.links.get(user)?.push(`${next.pathname}${next.search}`);
    }

    // What each task is now: the latest answer that carried it (a replay answers with the task as it was created).
    // Only answered writes change a task, so a read must find each task as the latest answer left it.
    if (modelled && status < 300 && response.headers['idempotent-replayed'] !== 'true') {
        // The trash lists a task as it was deleted, with the time it was: the task is the rest.
        for (const { deleted_at: _trashedAt, ...task } of internals.tasksIn(body) as (Task & { deleted_at?: string })[]) {
            if (request.method === 'GET' && internals.contents.has(task.id)) {
                t.deepEqual(task, internals.contents.get(task.id), `a task read is not as the latest answer left it: ${described}`);
            }

            internals.contents.set(task.id, task);
            if (request.method !== 'GET') {
                internals.conditionalAnswers.subtasks += task.parent_id === null ? 0 : 1;
                internals.conditionalAnswers.listed += task.list_id === null ? 0 : 1;
            }
        }
    }

    // The model: what the two users created and deleted. A replayed create answers a task created before and
    // creates none.
    if (modelled && status < 300) {
        if (request.method === 'POST' && request.path === '/api/tasks' && status === 201) {
            const { id: createdId } = body as Task;
            const created = internals.created.get(user)!;
            if (response.headers['idempotent-replayed'] === 'true') {
                t.true('idempotency-key' in headers && created.has(createdId), `a replay of a create that never was: ${described}`);
                ++internals.conditionalAnswers.replayed;
            }
            else {
                t.false(created.has(createdId), `a new task with an old id: ${described}`);
                created.add(createdId);
                internals.owned.get(user)!.push(createdId);
            }
        }
        else if (request.method === 'POST' && request.path === '/api/lists' && status === 201) {
            internals.lists.get(user)!.push((body as { id: string }).id);
        }
        else if (request.method === 'DELETE' && request.path === '/api/lists/{id}' && status === 204) {
            internals.lists.set(user, internals.lists.get(user)!.filter((list) => list !== id));
        }
        else if (emptying) {
            t.deepEqual(body, { deleted: trashBefore.length }, described);
            internals.move(internals.trashed, null, user, new Set(trashBefore));
        }
    }
    else if (emptying) {
        t.deepEqual(await internals.trashIds(user), trashBefore, `a refused empty removed tasks: ${described}`);
    }

    if (treeBefore) {
        await checkTreeWrite(t, { user, id, status, body, described, clearing, path: request.path, before: treeBefore });
    }

    // Other tasks a write moved (a move's subtasks, siblings spread again) changed their place and version only.
    if (writing && status < 300) {
        // Trashed ones too: a list deleted leaves its trashed tasks in no list.
        const { live, trash } = await internals.tree(user);
        const trashed = [...trash].map(([taskId, { deleted_at: _d, ...task }]: [string, Task & { deleted_at?: string }]) => [taskId, task] as const);
        for (const [taskId, task] of [...live, ...trashed]) {
            const known = internals.contents.get(taskId);
            if (known && taskId !== id) {
                const { position: _p, updated_at: _u, list_id: _l, ...rest } = task;
                const { position: _kp, updated_at: _ku, list_id: _kl, ...knownRest } = known;
                t.deepEqual(rest, knownRest, `a write changed another task beyond its place: ${described}`);
            }

            internals.contents.set(taskId, task);
        }
    }
}


/**
 * A write that trashes, restores or removes a subtree (a task's, a list's tasks, the completed tasks' with theirs):
 * on a 2xx exactly such a set moved, closed under subtasks, and the model follows; refused, nothing moved.
 */
async function checkTreeWrite(t: ExecutionContext, write: { user: string; id: string; status: number; body: unknown; described: string; clearing: boolean; path: string; before: Awaited<ReturnType<typeof internals.tree>> }): Promise<void> {

    const { user, id, status, body, described, clearing, path, before } = write;
    const after = await internals.tree(user);
    const gone = [...before.live.keys()].filter((each) => !after.live.has(each));
    const back = [...after.live.keys()].filter((each) => !before.live.has(each));
    const removed = [...before.trash.keys()].filter((each) => !after.trash.has(each) && !after.live.has(each));
    if (status >= 300) {
        t.deepEqual([gone, back, removed], [[], [], []], `a refused write moved tasks: ${described}`);
        return;
    }

    if (clearing || path === '/api/tasks/{id}' || path === '/api/lists/{id}') {
        t.deepEqual(back, [], described);
        t.deepEqual(removed, [], described);
        t.true(gone.every((each) => after.trash.has(each)), `trashed tasks not in the trash: ${described}`);
        // Trashed with everything under it: no live task is left under a trashed one.
        t.true([...after.live.values()].every((task) => task.parent_id === null || after.live.has(task.parent_id)), `a live task under a trashed one: ${described}`);
        if (path === '/api/tasks/{id}') {
            t.true(gone.includes(id), described);
            t.true(gone.every((each) => each === id || gone.includes(before.live.get(each)!.parent_id!)), `more than the task's subtree was trashed: ${described}`);
        }
        else if (path === '/api/lists/{id}') {
            t.deepEqual(gone.sort(), [...before.live.values()].filter((task) => task.list_id === id).map((task) => task.id).sort(), `not exactly the list's tasks were trashed: ${described}`);
        }
        else {
            t.deepEqual(body, { deleted: gone.length }, described);
            t.true(gone.every((each) => before.live.get(each)!.completed || gone.includes(before.live.get(each)!.parent_id!)), `more than the completed tasks' subtrees was trashed: ${described}`);
            ++internals.conditionalAnswers.cleared;
        }
    }
    else if (path === '/api/trash/{id}/restore') {
        t.deepEqual(gone, [], described);
        t.deepEqual(removed, [], described);
        t.true(back.includes(id) && back.every((each) => before.trash.has(each)), `a restore brought back what was not in the trash: ${described}`);
        t.true(back.every((each) => each === id || back.includes(before.trash.get(each)!.parent_id!)), `a restore brought back more than the task's subtree: ${described}`);
        ++internals.conditionalAnswers.restored;
    }
    else {
        t.deepEqual([gone, back], [[], []], described);
        t.true(removed.includes(id) && removed.every((each) => each === id || removed.includes(before.trash.get(each)!.parent_id!)), `a purge removed more than the task's subtree: ${described}`);
    }

    internals.owned.set(user, [...after.live.keys()]);
    internals.trashed.set(user, [...after.trash.keys()]);
}


const requests = fuzzRequests(documentedOperations());
for (let round = 0; round * roundSize < runs; ++round) {
    const numRuns = Math.min(roundSize, runs - round * roundSize);
    testProp.serial(`FUZZ_SEED=${seed} round ${round + 1}: ${numRuns} generated requests: never a 5xx, errors in the documented shape, answers by the contract, each user's tasks their own`,
        [requests], send, { numRuns, seed: seed + round, endOnFailure: true });
}


test.serial('nothing a user created and did not delete disappeared, nothing else appeared, each task is as its latest answer said, and the trash holds what was deleted and not restored or removed', async (t) => {

    for (const user of users) {
        const expected = [...internals.owned.get(user)!].sort();
        await internals.reload(user);
        t.deepEqual([...internals.owned.get(user)!].sort(), expected, user);
        t.deepEqual((await internals.trashIds(user)).sort(), [...internals.trashed.get(user)!].sort(), `${user}'s trash`);
        t.deepEqual((await internals.storedLists(user)).sort(), [...internals.lists.get(user)!].sort(), `${user}'s lists`);

        const stored = await Promise.all(expected.map((id) => internals.api.tasks.getTaskForUser(user, id)));
        t.deepEqual(stored, expected.map((id) => internals.contents.get(id)), `${user}'s tasks are not as their latest answers said`);
    }

    const total = [...internals.statuses.values()].reduce((sum, count) => sum + count, 0);
    t.log(`${total} requests; statuses: ${[...internals.statuses.entries()].sort().map(([status, count]) => `${status}×${count}`).join(' ')}`);
    t.true(total >= runs, 'every generated request was sent');
    t.log(`2xx on /api: ${internals.accepted.secret} with HS256 tokens, ${internals.accepted.keySet} with key-set tokens`);
    t.true(internals.accepted.secret > runs / 20 && internals.accepted.keySet > runs / 60, 'both kinds of token were accepted often');

    // Guards the generator per operation: each one's requests with a valid token must often be carried out.
    const shares = [...internals.operations].map(([name, { sent, succeeded }]) => [name, sent, succeeded / Math.max(sent, 1)] as const);
    t.log(`2xx per operation: ${shares.map(([name, sent, share]) => `${name} ${(100 * share).toFixed(0)}% of ${sent}`).join(', ')}`);
    for (const [name, sent, share] of shares) {
        t.true(share >= internals.minimumShare(name, sent), `${name}: ${(100 * share).toFixed(1)}% of ${sent} requests with a valid token got a 2xx`);
    }

    // Guards the generator: the conditional and keyed paths must be reached, not only refused at the door; feeds and
    // streams must resume from issued cursors and be refused the others.
    const { notModified, preconditionFailed, replayed, cleared, restored, subtasks, listed } = internals.conditionalAnswers;
    const { resumed, refused, streamed } = internals.cursorAnswers;
    t.log(`304 ×${notModified}, 412 ×${preconditionFailed}, replayed creates ×${replayed}, completed tasks cleared ×${cleared}, restores ×${restored}, writes answering a subtask ×${subtasks}, a task in a list ×${listed}`);
    t.log(`feeds and streams resumed from an issued cursor ×${resumed}, refused another's cursor ×${refused}, streams opened ×${streamed}`);
    if (runs >= 10_000) {
        t.true(notModified > 0 && preconditionFailed > 0 && replayed > 0 && cleared > 0 && restored > 0 && subtasks > 0 && listed > 0);
        t.true(resumed > 0 && refused > 0 && streamed > 0);
    }
});


test.serial('the generator reaches every documented operation', (t) => {

    const operations = documentedOperations();
    const seen = new Set(fc.sample(fuzzRequests(operations), { numRuns: 2000, seed: 1 }).map((request) => `${request.method} ${request.path}`));
    for (const operation of operations) {
        t.true(seen.has(`${operation.method} ${operation.path}`), `${operation.method} ${operation.path}`);
    }
});
