import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import { mintToken } from '../../src/auth/tokens';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import type { Change } from 'todo-api/client';
import { StreamCursorRefused, subscribeToChanges } from 'todo-api/client';


// subscribeToChanges against a server on a port: reconnects (here after each token expires) with a fresh token
// and the last id, so that the changes come once each, in order, also those made while it was away.


const test = anyTest as TestFn<{ api: TestApi; base: string }>;

test.before(async (t) => {

    const api = await startTestApi({ PORT: '0', HOST: '127.0.0.1' });
    await api.server.start();
    t.context = { api, base: api.server.info.uri };
});

test.after.always(async (t) => {

    await t.context?.api.stop();
});


test('reconnects with a fresh token and resumes from the last id: every change once, in order', async (t) => {

    const { api, base } = t.context;
    const user = `client-${Crypto.randomUUID()}`;
    const controller = new AbortController();
    const received: { change: Change; cursor: string }[] = [];
    const waiting: { count: number; resolve: () => void }[] = [];
    const tokens: string[] = [];
    const made: string[] = [];
    const writes: Promise<unknown>[] = [];

    const receivedAtLeast = (count: number) => {

        return new Promise<void>((resolve) => {

            if (received.length >= count) {
                resolve();
                return;
            }

            waiting.push({ count, resolve });
        });
    };

    const create = (title: string) => {

        const write = api.createTask(user, { title }).then((task) => made.push(task.id));
        writes.push(write);
        return write;
    };

    // From the feed's cursor (a full sync of nothing), so that the first change cannot come before the stream's start.
    const feed = await api.request({ method: 'GET', url: '/api/changes', as: user });
    const done = subscribeToChanges({
        baseUrl: base,
        since: (feed.result as { cursor: string }).cursor,
        // Tokens that expire two seconds after they are asked for: the stream ends, the client reconnects.
        getToken: () => {

            const { token } = mintToken(api.config.auth, { userId: user, ttlSec: 2 });
            tokens.push(token);
            return token;
        },
        signal: controller.signal,
        onChange(change, cursor) {

            received.push({ change, cursor });
            for (const waiter of [...waiting]) {
                if (received.length >= waiter.count) {
                    waiting.splice(waiting.indexOf(waiter), 1);
                    waiter.resolve();
                }
            }
        },
        // While it is away, more changes.
        onRetry: () => void create(`while away ${tokens.length}`)
    });

    await create('first');
    await receivedAtLeast(1);
    // Two reconnects, each after a change made while away.
    await receivedAtLeast(3);
    controller.abort();
    await done;
    await Promise.all(writes);

    t.true(tokens.length >= 3);
    t.is(new Set(tokens).size, tokens.length, 'a fresh token on every attempt');
    const ids = received.map(({ change }) => (change.op === 'upsert' ? change.task.id : change.id));
    t.deepEqual(ids, made.slice(0, ids.length), 'in the order they were made, none twice, none skipped');
    t.is(new Set(received.map(({ cursor }) => cursor)).size, received.length);
});


test('a cursor that is not the user\'s rejects with StreamCursorRefused', async (t) => {

    const { api, base } = t.context;
    const other = `client-${Crypto.randomUUID()}`;
    const feed = await api.request({ method: 'GET', url: '/api/changes', as: other });
    const cursor = (feed.result as { cursor: string }).cursor;

    const err = await t.throwsAsync(subscribeToChanges({
        baseUrl: base,
        getToken: () => api.token(`client-${Crypto.randomUUID()}`),
        since: cursor,
        onChange: () => undefined
    }));
    t.true(err instanceof StreamCursorRefused);
    t.is((err as StreamCursorRefused).status, 422);
});
