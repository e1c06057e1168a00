import Net from 'node:net';

import test from 'ava';
import nock from 'nock';

import { run } from '../../cli/main';
import { createDatabase } from '../../src/data/database';
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


test.after.always(() => {

    nock.cleanAll();
});


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

    nock('http://slow.example.test').get('/health').delay(3000).reply(200, { status: 'ok', database: 'ok', version: '1.0.0' });

    const result = await health(['--url', 'http://slow.example.test', '--timeout', '300ms']);
    t.is(result.code, 1);
    t.regex(result.stderr, /unreachable: no answer within 300 ms/);
});

test('a malformed answer is unhealthy: exit 1 with the reason', async (t) => {

    nock('http://html.example.test').get('/health').reply(200, '<html>It works!</html>', { 'content-type': 'text/html' });
    const html = await health(['--url', 'http://html.example.test']);
    t.is(html.code, 1);
    t.regex(html.stderr, /HTTP 200 with a body that is not JSON/);

    nock('http://odd.example.test').get('/health').reply(200, { status: 'degraded' });
    const odd = await health(['--url', 'http://odd.example.test', '--json']);
    t.is(odd.code, 1);
    t.like(JSON.parse(odd.stdout), { healthy: false, status: 200, reason: 'HTTP 200, status "degraded"' });
});

test('bad options are usage errors', async (t) => {

    t.is((await health(['--timeout', 'soon'])).code, 2);
    t.is((await health(['--url', 'ftp://example.com'])).code, 2);
});
