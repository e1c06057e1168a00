import Http from 'node:http';
import Net from 'node:net';

import test from 'ava';
import type { ExecutionContext } from 'ava';

import { run } from '../../cli/main';
import { createDatabase } from '../../src/data/connection';
import { silentKnexLogger } from '../../src/logger';
import { createServer } from '../../src/server';
import { startTestApi, testConfig } from '../helpers/api';
import { throwOnViolations, watchResponses } from '../helpers/contract';


async function health(argv: string[]) {

    let stdout = '';
    let stderr = '';
    const code = await run(['health', ...argv], { env: {}, out: (text) => (stdout += text), err: (text) => (stderr += text), progressStream: null });
    return { code, stdout, stderr };
}


/** A server on 127.0.0.1 that is not this service (something else on the URL, a proxy's error page), answering as told. */
async function otherServer(t: ExecutionContext, answer: (res: Http.ServerResponse) => void): Promise<string> {

    const server = Http.createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as Net.AddressInfo).port}`;
}


test('a live server is healthy: exit 0 with its latency', async (t) => {

    const api = await startTestApi({ PORT: '0' });
    await api.server.start();
    t.teardown(() => api.stop());

    const result = await health(['--url', api.server.info.uri]);
    t.is(result.code, 0);
    t.regex(result.stdout, /^healthy: http:\/\/127\.0\.0\.1:\d+\/health answered in \d+ ms \(database ok, version \d+\.\d+\.\d+\)\n$/);

    const json = await health(['--url', api.server.info.uri, '--json']);
    t.like(JSON.parse(json.stdout), { healthy: true, status: 200, body: { status: 'ok', database: 'ok' } });
});

test('a server whose database is down is unhealthy: exit 1 with the reason', async (t) => {

    const database = { kind: 'postgres' as const, url: 'postgres://postgres@127.0.0.1:1/none', poolMax: 1, timeoutMs: 300, queryTimeoutMs: 0 };
    const db = await createDatabase(database, { log: silentKnexLogger() });
    const server = await createServer({ config: { ...testConfig({ PORT: '0' }), database }, db });
    const violations = watchResponses(server);
    await server.start();
    t.teardown(async () => {

        await server.stop();
        await db.destroy();
        throwOnViolations(violations);
    });

    const result = await health(['--url', server.info.uri]);
    t.is(result.code, 1);
    t.is(result.stdout, '');
    t.regex(result.stderr, /^unhealthy: .*\/health: HTTP 503, database unreachable \(after \d+ ms\)\n$/);
});

test('nothing listening is unhealthy: exit 1, connection refused', async (t) => {

    const port = await new Promise<number>((resolve) => {

        const probe = Net.createServer().listen(0, '127.0.0.1', () => {

            const { port: free } = probe.address() as Net.AddressInfo;
            probe.close(() => resolve(free));
        });
    });

    const result = await health(['--url', `http://127.0.0.1:${port}`]);
    t.is(result.code, 1);
    t.regex(result.stderr, /unreachable: ECONNREFUSED/);
});

test('a server that answers too slowly is unhealthy: exit 1 after the timeout', async (t) => {

    // This service, on a database that takes connections and never answers: /health waits DB_TIMEOUT_MS (3 s) for it.
    const silent = Net.createServer();
    const held = new Set<Net.Socket>();
    silent.on('connection', (socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const database = { kind: 'postgres' as const, url: `postgres://postgres@127.0.0.1:${(silent.address() as Net.AddressInfo).port}/none`, poolMax: 1, timeoutMs: 3000, queryTimeoutMs: 0 };
    const db = await createDatabase(database, { log: silentKnexLogger() });
    const server = await createServer({ config: { ...testConfig({ PORT: '0' }), database }, db });
    const violations = watchResponses(server);
    await server.start();
    t.teardown(async () => {

        await server.stop();
        await db.destroy();
        for (const socket of held) {
            socket.destroy();
        }

        await new Promise<void>((resolve) => silent.close(() => resolve()));
        throwOnViolations(violations);
    });

    const result = await health(['--url', server.info.uri, '--timeout', '300ms']);
    t.is(result.code, 1);
    t.regex(result.stderr, /unreachable: no answer within 300 ms/);
});

test('a malformed answer is unhealthy: exit 1 with the reason', async (t) => {

    const htmlUrl = await otherServer(t, (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>It works!</html>'));
    const html = await health(['--url', htmlUrl]);
    t.is(html.code, 1);
    t.regex(html.stderr, /HTTP 200 with a body that is not JSON/);

    const oddUrl = await otherServer(t, (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'degraded' })));
    const odd = await health(['--url', oddUrl, '--json']);
    t.is(odd.code, 1);
    t.like(JSON.parse(odd.stdout), { healthy: false, status: 200, reason: 'HTTP 200, status "degraded"' });
});

test('bad options are usage errors', async (t) => {

    t.is((await health(['--timeout', 'soon'])).code, 2);
    t.is((await health(['--url', 'ftp://example.com'])).code, 2);
});
