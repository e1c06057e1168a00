import anyTest from 'ava';
import type { TestFn } from 'ava';

import { mintToken } from '../../src/auth/tokens';
import { testConfig, testListenUrl, testSecret } from '../helpers/api';
import type { ServerDatabase, ServerProcess } from '../helpers/process';
import { createServerDatabase, send, startServer } from '../helpers/process';
import { aboutTask, openStream } from '../helpers/stream';


// The live stream across server processes: what one process writes reaches the streams another holds, through
// PostgreSQL's notifications (the catch-up is set too long to stand in for them), or on the embedded database
// through the primary's socket, which workers poll. And SIGTERM ends the streams and still stops the server.


const test = anyTest as TestFn<{ database: ServerDatabase; servers: ServerProcess[] }>;

test.beforeEach(async (t) => {

    t.context = { database: await createServerDatabase(), servers: [] };
});

test.afterEach.always(async (t) => {

    for (const server of t.context.servers) {
        server.destroy();
        await server.exited;
    }

    await t.context.database?.drop();
});


const token = (user: string) => mintToken(testConfig().auth, { userId: user, ttlSec: 600 }).token;

const start = async (t: { context: { database: ServerDatabase; servers: ServerProcess[] } }, env: Record<string, string> = {}) => {

    // Through a transaction pooler, LISTEN needs the direct URL (TEST_DATABASE_LISTEN_URL).
    const listenUrl = testListenUrl({ kind: t.context.database.env.DATABASE_URL.startsWith('pglite:') ? 'pglite' : 'postgres', url: t.context.database.env.DATABASE_URL });
    const server = await startServer({ BETTER_AUTH_SECRET: testSecret, SSE_CATCHUP_S: '3600', ...t.context.database.env, ...(listenUrl ? { DATABASE_LISTEN_URL: listenUrl } : {}), ...env });
    t.context.servers.push(server);
    return server;
};

const create = async (uri: string, user: string, title: string) => {

    const answer = await send(uri, 'POST', '/api/tasks', { authorization: `Bearer ${token(user)}`, 'content-type': 'application/json' }, JSON.stringify({ title }), false);
    if (answer.status !== 201) {
        throw new Error(`create: ${answer.status} ${answer.body}`);
    }

    return JSON.parse(answer.body) as { id: string };
};


test.serial('a change written through another server process reaches the stream', async (t) => {

    const user = `stream-${Date.now()}`;
    // Two processes on one PostgreSQL; on the embedded database, one primary's two workers (a data directory has
    // one owner), each write on a new connection, so that they land on both.
    const embedded = t.context.database.env.DATABASE_URL.startsWith('pglite:');
    const reader = await start(t, embedded ? { WEB_CONCURRENCY: '2' } : {});
    const writer = embedded ? reader : await start(t);

    const stream = await openStream(reader.uri, token(user));
    t.is(stream.status, 200);
    for (let i = 0; i < 4; ++i) {
        const task = await create(writer.uri, user, `task ${i}`);
        await stream.until(aboutTask(task.id));
    }

    t.is(stream.changes().length, 4);
    stream.close();
});


test.serial('SIGTERM ends the open streams and the server still stops cleanly', async (t) => {

    const server = await start(t);
    const user = `stream-${Date.now()}`;
    const stream = await openStream(server.uri, token(user));
    const task = await create(server.uri, user, 'before the stop');
    await stream.until(aboutTask(task.id));

    server.child.kill('SIGTERM');
    await stream.ended;
    const { code } = await server.exited;
    t.is(code, 0);
    t.false(server.lines.some((line) => line.includes('overstayed') || line.includes('unclean')));
});
