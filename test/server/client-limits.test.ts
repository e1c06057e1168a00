import Http from 'node:http';
import Net from 'node:net';

import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';
import Pino from 'pino';

import { maxAuthorizationBytes } from '../../src/auth/jwt';
import { createServer } from '../../src/server';
import type { TestApi } from '../helpers/api';
import { startTestApi, testConfig } from '../helpers/api';
import { throwOnViolations, watchResponses } from '../helpers/contract';
import { createTestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';


interface Context {
    api: TestApi;
    port: number;
}

interface Exchange {
    /** Everything the server sent before it closed the connection. */
    received: string;
    /** Whether the server closed the connection before the client had sent everything it meant to. */
    closedEarly: boolean;
}


const test = anyTest as TestFn<Context>;


test.before(async (t) => {

    const api = await startTestApi({ HOST: '127.0.0.1', PORT: '0', HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '300' });
    await api.server.start();
    t.context = { api, port: api.server.info.port as number };
});

test.after.always(async (t) => {

    await t.context?.api.stop();
});


/**
 * Sends the chunks one after another, `gapMs` apart, and collects what comes back until the server closes the
 * connection (or 10 s pass, which no test here needs).
 */
function exchange(port: number, chunks: string[], gapMs = 0): Promise<Exchange> {

    return new Promise((resolve, reject) => {

        const socket = Net.connect(port, '127.0.0.1');
        let received = '';
        let sent = 0;
        let timer: NodeJS.Timeout | undefined;

        const finish = () => {

            clearTimeout(timer);
            clearTimeout(deadline);
            resolve({ received, closedEarly: sent < chunks.length });
        };

        const deadline = setTimeout(() => {

            socket.destroy();
            reject(new Error(`the server kept the connection open; received so far: ${received}`));
        }, 10_000);

        const next = () => {

            if (sent < chunks.length && !socket.destroyed) {
                socket.write(chunks[sent++]);
                timer = setTimeout(next, gapMs);
            }
        };

        socket.setEncoding('utf8');
        socket.on('data', (data) => (received += data));
        socket.on('error', () => undefined);                        // A reset after the answer is the server closing; close follows.
        socket.on('close', finish);
        socket.on('connect', next);
    });
}


function parse(raw: string): { status: number; headers: string; body: unknown } {

    const [head, body] = raw.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: body ? JSON.parse(body) : undefined };
}


test('headers over the limit get 431 with a detail, not a bare status line', async (t) => {

    const { received } = await exchange(t.context.port, [`GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    const answer = parse(received);
    t.is(answer.status, 431);
    t.regex(answer.headers, /content-type: application\/json/);
    t.deepEqual(Object.keys(answer.body as object), ['detail']);
});

test('a request line over the limit gets 431 with a detail', async (t) => {

    const { received } = await exchange(t.context.port, [`GET /api/tasks?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`]);
    const answer = parse(received);
    t.is(answer.status, 431);
    t.is(typeof (answer.body as { detail: unknown }).detail, 'string');
});

test('bytes that are not HTTP get 400 with a detail', async (t) => {

    const { received } = await exchange(t.context.port, ['HELLO THERE\r\n\r\n']);
    const answer = parse(received);
    t.is(answer.status, 400);
    t.is(typeof (answer.body as { detail: unknown }).detail, 'string');
});

test('a client sending its headers one byte at a time is cut off with 408', async (t) => {

    const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ' + 'z'.repeat(100) + '\r\n\r\n';
    const { received, closedEarly } = await exchange(t.context.port, request.split(''), 50);
    t.true(closedEarly, 'the whole request was sent before the server gave up');
    t.is(parse(received).status, 408);
});

test('a client trickling its body is cut off', async (t) => {

    const token = t.context.api.token('slow-body');
    const head = `POST /api/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`;
    const { received, closedEarly } = await exchange(t.context.port, [head, ...'{"title":"slow"'.split(''), ...' '.repeat(85).split('')], 100);
    t.true(closedEarly, 'the whole body was sent before the server gave up');
    t.is(parse(received).status, 408);
    t.deepEqual((await t.context.api.tasks.listTasksForUser('slow-body', { limit: 10 })).tasks, [], 'nothing was stored');
});

test('an idle keep-alive connection is closed', async (t) => {

    const { received } = await exchange(t.context.port, ['GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n']);
    t.is(parse(received).status, 200, 'answered, then closed once idle');
});

test('an Authorization header larger than any token is refused before it is decoded', async (t) => {

    const huge = `Bearer ${'a'.repeat(maxAuthorizationBytes)}`;
    const refused = await t.context.api.request({ method: 'GET', url: '/api/tasks', headers: { authorization: huge } });
    t.is(refused.statusCode, 401);
    t.deepEqual(refused.result, { detail: 'Invalid authentication credentials' });

    const publicRoute = await t.context.api.request({ method: 'GET', url: '/health/live', headers: { authorization: huge } });
    t.is(publicRoute.statusCode, 200, 'public routes ignore the header');
});

test('a client that hangs up mid-request writes no error to the log; one that sends garbage, one warning line with no stack', async (t) => {

    const lines: Record<string, unknown>[] = [];
    const logger = Pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const database = await createTestDatabase({ migrate: false });
    const server = await createServer({ config: { ...testConfig({ HOST: '127.0.0.1', PORT: '0' }), database: database.config }, db: database.db, logger });
    const violations = watchResponses(server);
    await server.start();
    t.teardown(async () => {

        await server.stop();
        await database.destroy();
        throwOnViolations(violations);
    });

    // Hung up in the middle of the headers, and in the middle of a body.
    for (const partial of ['GET /health HTTP/1.1\r\nHost: loc', 'POST /api/tasks HTTP/1.1\r\nHost: localhost\r\nContent-Length: 50\r\n\r\n{"ti']) {
        const accepted = new Promise<Net.Socket>((resolve) => server.listener.once('connection', resolve));
        const socket = Net.connect(server.info.port as number, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.write(partial);

        // The client hangs up once the server has read what it sent, and the server is done with it when it closes.
        const serverSide = await accepted;
        await waitFor('the server to read the partial request', () => serverSide.bytesRead >= Buffer.byteLength(partial));
        const closed = new Promise((resolve) => serverSide.once('close', resolve));
        socket.resetAndDestroy();
        await closed;
    }

    t.deepEqual(lines.filter((line) => (line.level as number) >= 50), []);

    await exchange(server.info.port as number, ['HELLO THERE\r\n\r\n']);
    const warnings = lines.filter((line) => line.level === 40);
    t.is(warnings.length, 1);
    t.like(warnings[0], { tags: ['connection', 'client', 'warn'], data: { code: 'HPE_INVALID_METHOD' } });
    t.false(JSON.stringify(warnings[0]).includes('stack'));
});

/** A listening server with the default timeouts: this file's own closes idle connections too soon to reuse them. */
async function listeningApi(t: ExecutionContext<Context>): Promise<{ api: TestApi; port: number }> {

    const api = await startTestApi({ HOST: '127.0.0.1', PORT: '0' });
    await api.server.start();
    t.teardown(() => api.stop());
    return { api, port: api.server.info.port as number };
}


test('a body where none belongs (a GET with 200 KB, a POST over the limit) is answered in shape, and the connection stays usable', async (t) => {

    const { api, port } = await listeningApi(t);
    const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const body = Buffer.alloc(200_000, 'a');

    const send = (method: string, path: string, headers: Record<string, string | number>, chunks: Buffer[]) => {

        return new Promise<{ status: number; headers: Http.IncomingHttpHeaders; body: string; reused: boolean }>((resolve, reject) => {

            const req = Http.request({ host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${api.token('body-user')}`, ...headers } }, (res) => {

                let text = '';
                res.setEncoding('utf8');
                res.on('data', (chunk) => (text += chunk));
                res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, reused: req.reusedSocket }));
            });

            req.on('error', reject);
            for (const chunk of chunks) {
                req.write(chunk);
            }

            req.end();
        });
    };

    const answers = [
        await send('GET', '/api/tasks', { 'content-type': 'application/json', 'content-length': body.length }, [body]),
        await send('GET', '/api/tasks', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, [body.subarray(0, 100_000), body.subarray(100_000)]),
        await send('GET', '/api/tasks/stats', { 'content-length': body.length }, [body]),
        await send('POST', '/api/tasks', { 'content-type': 'application/json', 'content-length': body.length }, [body]),
        await send('GET', '/api/tasks', {}, [])
    ];

    t.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 413, 200]);
    t.deepEqual(JSON.parse(answers[3].body), { detail: 'Payload content length greater than maximum allowed: 65536' });
    t.deepEqual(answers.map((answer) => answer.headers.connection), ['keep-alive', 'keep-alive', 'keep-alive', 'keep-alive', 'keep-alive']);
    t.deepEqual(answers.map((answer) => answer.reused), [false, true, true, true, true], 'one connection carried them all');
});
