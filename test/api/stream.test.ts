import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';
import Pg from 'pg';

import { mintToken } from '../../src/auth/tokens';
import { decodeFeedCursor } from '../../src/common/cursors';
import type { TestApi } from '../helpers/api';
import { startTestApi, testConfig, testListenUrl } from '../helpers/api';
import { aboutTask, openStream } from '../helpers/stream';
import type { OpenStream } from '../helpers/stream';
import { waitFor } from '../helpers/wait';


// The live stream over real connections: a server listening on a port, read as a client reads it.


const test = anyTest as TestFn<TestApi & { uri: string }>;
const newUser = () => `stream-${Crypto.randomUUID()}`;

test.before(async (t) => {

    const api = await startTestApi({ HOST: '127.0.0.1', PORT: '0', SSE_HEARTBEAT_S: '1', SSE_MAX_STREAMS_PER_USER: '2', SSE_MAX_BACKLOG_KB: '16', SSE_CATCHUP_S: '1' });
    await api.server.start();
    t.context = { ...api, uri: api.server.info.uri };
});

test.after.always(async (t) => {

    await t.context?.stop();
});


const streams: OpenStream[] = [];

const open = async (uri: string, token: string, options?: Parameters<typeof openStream>[2]) => {

    const stream = await openStream(uri, token, options);
    streams.push(stream);
    return stream;
};

test.afterEach.always(() => {

    for (const stream of streams.splice(0)) {
        stream.close();
    }
});


test.serial('a stream without a cursor starts at now; a reconnect with Last-Event-ID gets every change after it, once', async (t) => {

    const user = newUser();
    const before = await t.context.createTask(user, { title: 'before' });
    const first = await open(t.context.uri, t.context.token(user));
    t.is(first.status, 200);
    t.regex(String(first.headers['content-type']), /^text\/event-stream/);

    const a = await t.context.createTask(user, { title: 'a' });
    const seenA = await first.until(aboutTask(a.id));
    first.close();
    await first.ended;

    // While disconnected: a new task, a change to the one seen, a delete.
    const b = await t.context.createTask(user, { title: 'b' });
    await t.context.request({ method: 'PATCH', url: `/api/tasks/${a.id}`, as: user, payload: { title: 'a2' } });
    await t.context.request({ method: 'DELETE', url: `/api/tasks/${before.id}`, as: user });
    const c = await t.context.createTask(user, { title: 'c' });

    const second = await open(t.context.uri, t.context.token(user), { lastEventId: seenA.id });
    await second.until(aboutTask(c.id));
    const got = second.changes();
    t.deepEqual(got.map(({ change }) => [change.op, change.task?.id ?? change.id]), [['upsert', b.id], ['upsert', a.id], ['delete', before.id], ['upsert', c.id]]);
    t.is(got[1].change.task.title, 'a2');
    t.is(first.changes().length, 1, 'the first stream had no task from before it opened');

    // Ids are the feed's cursors: the feed after the last one has nothing more.
    const feed = await t.context.request({ method: 'GET', url: `/api/changes?since=${got[3].id}`, as: user });
    t.deepEqual(feed.result, { changes: [], cursor: got[3].id, has_more: false });

    // And since= (a feed cursor) does the same as Last-Event-ID.
    second.close();
    const third = await open(t.context.uri, t.context.token(user), { since: got[1].id });
    await third.until(aboutTask(c.id));
    t.deepEqual(third.changes().map(({ id }) => id), got.slice(2).map(({ id }) => id));
});


test.serial('the streams of one user each get every change once, in the feed\'s order, when changes come at once', async (t) => {

    const user = newUser();
    const both = [await open(t.context.uri, t.context.token(user)), await open(t.context.uri, t.context.token(user))];
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => t.context.createTask(user, { title: `at once ${i}` })));

    for (const stream of both) {
        await stream.until(() => stream.changes().length >= created.length);
        const versions = stream.changes().map(({ id }) => decodeFeedCursor(user, id)!);
        t.deepEqual(versions, [...versions].sort((a, b) => a - b), 'in the feed\'s order');
        t.deepEqual(stream.changes().map(({ change }) => change.task.id).sort(), created.map((task) => task.id).sort(), 'each once');
    }

    t.deepEqual(both[0].changes(), both[1].changes());
});


test.serial('another user\'s changes never reach a stream', async (t) => {

    const [alice, bob] = [newUser(), newUser()];
    const stream = await open(t.context.uri, t.context.token(alice));
    const bobs = await t.context.createTask(bob);
    const alices = await t.context.createTask(alice);
    await stream.until(aboutTask(alices.id));
    // Both users' writes were signalled before Alice's arrived; a heartbeat later, still none of Bob's.
    const heartbeats = stream.events.filter((event) => event.comment === 'heartbeat').length;
    await stream.until((event) => event.comment === 'heartbeat' && stream.events.filter((e) => e.comment === 'heartbeat').length > heartbeats);
    t.deepEqual(stream.changes().map(({ change }) => change.task.id), [alices.id]);
    t.false(stream.events.some(aboutTask(bobs.id)));

    // Bob's cursor is not Alice's: 422, as on the feed.
    const bobStream = await open(t.context.uri, t.context.token(bob));
    await t.context.createTask(bob);
    const bobEvent = await bobStream.until((event) => event.event === 'change');
    const refused = await open(t.context.uri, t.context.token(alice), { lastEventId: bobEvent.id });
    t.is(refused.status, 422);
    t.is(JSON.parse(refused.body).detail[0].type, 'cursor.foreign');
    const garbage = await open(t.context.uri, t.context.token(alice), { since: 'not-a-cursor' });
    t.is(garbage.status, 422);
});


test.serial('heartbeats come as comment lines', async (t) => {

    const stream = await open(t.context.uri, t.context.token(newUser()));
    const event = await stream.until((e) => e.comment === 'heartbeat');
    t.is(event.event, undefined);
});


test.serial('one stream more than SSE_MAX_STREAMS_PER_USER answers 429; another user is not counted', async (t) => {

    const user = newUser();
    await open(t.context.uri, t.context.token(user));
    const second = await open(t.context.uri, t.context.token(user));
    const third = await open(t.context.uri, t.context.token(user));
    t.is(third.status, 429);
    t.truthy(third.headers['retry-after']);
    t.is((await open(t.context.uri, t.context.token(newUser()))).status, 200);

    // One ends: there is room again.
    second.close();
    await second.ended;
    // The server counts the stream out once it has seen the connection close.
    const again = await waitFor('the ended stream to be counted out', async () => {

        const stream = await open(t.context.uri, t.context.token(user));
        return stream.status !== 429 && stream;
    });

    t.is(again.status, 200);
});


test.serial('the stream ends when its token expires', async (t) => {

    const user = newUser();
    const { token } = mintToken(testConfig().auth, { userId: user, ttlSec: 2 });
    const stream = await open(t.context.uri, token);
    t.is(stream.status, 200);
    await stream.ended;
    t.pass();
});


test.serial('a client that does not read is cut off once its backlog passes the bound, and resumes with its last id', async (t) => {

    const user = newUser();
    const stream = await open(t.context.uri, t.context.token(user));
    const first = await t.context.createTask(user);
    const seen = await stream.until(aboutTask(first.id));
    stream.pause();
    // A paused client does not see its socket close: the server says when it cut it off.
    const cut = new Promise<void>((resolve) => {

        t.context.server.events.on('log', (event) => {

            if (event.tags.includes('stream') && (event.data as { msg?: string }).msg?.includes('cut off')) {
                resolve();
            }
        });
    });

    // Far more than the socket's buffers hold: 2000 tasks of 4 KB, in one statement.
    const description = 'x'.repeat(4000);
    await t.context.database.db.knex.raw(`insert into tasks (id, user_id, title, description, completed, priority, created_at, updated_at)
        select gen_random_uuid(), ?, 'bulk ' || n, ?, false, 'medium', now(), now() from generate_series(1, 2000) as n`, [user, description]);
    await cut;
    t.true(stream.changes().length < 2001);

    const resumed = await open(t.context.uri, t.context.token(user), { lastEventId: seen.id });
    const last = await resumed.until((event) => event.event === 'change' && JSON.parse(event.data!).task.title === 'bulk 2000');
    t.truthy(last);
    t.is(resumed.changes().length, 2000);
});


test.serial('a lost notification delays a change but never loses it: the catch-up finds it', async (t) => {

    // A server of its own whose catch-up runs every second.
    const api = await startTestApi({ HOST: '127.0.0.1', PORT: '0', SSE_CATCHUP_S: '1' });
    t.teardown(() => api.stop());
    await api.server.start();

    // A write that takes its version as the service's do (so the trigger leaves it to its writer) and that nobody
    // announces: a service process that stopped between its commit and its notification.
    const user = newUser();
    const stream = await open(api.server.info.uri, api.token(user));
    const { rows: [task] } = await api.database.db.knex.raw(`insert into tasks (id, user_id, title, description, completed, priority, created_at, updated_at, version)
        values (gen_random_uuid(), ?, 'unannounced', null, false, 'medium', now(), now(), tasks_take_versions(?, 1)) returning id`, [user, user]);
    await stream.until(aboutTask(task.id));
    t.is(stream.changes().length, 1);
});


test.serial('the service notifies its own writes once they have committed, not from inside them; other writes are notified by the trigger', async (t) => {

    const api = t.context;
    if (api.database.config.kind !== 'postgres') {
        // No process listens on the embedded database (change-signals.ts): the service announces nothing there.
        t.log('the embedded database has no listening connection: the streams poll it');
        t.pass();
        return;
    }

    const listener = new Pg.Client({ connectionString: testListenUrl(api.database.config) ?? api.database.config.url });
    await listener.connect();
    t.teardown(() => listener.end());
    const user = newUser();
    const heard: string[] = [];
    const arrived = (payload: string) => {

        return new Promise<void>((resolve) => {

            const check = () => {

                if (heard.includes(payload)) {
                    listener.off('notification', check);
                    resolve();
                }
            };

            listener.on('notification', check);
            check();
        });
    };

    listener.on('notification', ({ payload }) => payload?.startsWith(`${user}:`) && heard.push(payload));
    await listener.query('listen todo_api_changes');

    // The service's create (version 1): announced by the service, with the user and no version.
    await api.createTask(user);
    await arrived(`${user}:`);
    // The same function the service's statements take their versions with, in a transaction of its own (version 2):
    // the trigger leaves it to the writer, which here announces nothing.
    await api.database.db.knex.transaction((trx) => trx.raw('select tasks_take_versions(?, 1)', [user]));
    // An operator's SQL (version 3): the trigger notifies, with the version.
    await api.database.db.knex.raw('select tasks_bump_version(?, 1)', [user]);
    await arrived(`${user}:3`);
    t.deepEqual(heard, [`${user}:`, `${user}:3`]);
});


test.serial('a stream stays open past HTTP_REQUEST_TIMEOUT_MS (which bounds how long a request takes to arrive)', async (t) => {

    const api = await startTestApi({ HOST: '127.0.0.1', PORT: '0', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '500', SSE_HEARTBEAT_S: '1' });
    t.teardown(() => api.stop());
    await api.server.start();
    const stream = await open(api.server.info.uri, api.token(newUser()));
    // Three heartbeats a second apart: the connection outlived the timeout three times over.
    let beats = 0;
    await stream.until((event) => event.comment === 'heartbeat' && ++beats === 3);
    t.is(beats, 3);
});
