import Hapi from '@hapi/hapi';
import test from 'ava';

import { createLogger, requestLogging } from '../src/logger';


const internals = {
    timeRx: /"time":\d+,/,

    /** A logger of createLogger's at the level, its lines kept, and a server that logs its answers with it. */
    async server(level: string): Promise<{ server: Hapi.Server; lines: string[]; logger: ReturnType<typeof createLogger> }> {

        const lines: string[] = [];
        const logger = createLogger(level, { write: (line: string) => lines.push(line) });
        const server = Hapi.server({ debug: false });
        await server.register({ plugin: requestLogging, options: { logger, ignorePaths: ['/ignored'] } });
        server.route({ method: '*', path: '/{path*}', handler: (request, h) => h.response({ path: request.path }).code(request.path.endsWith('missing') ? 404 : 200) });
        await server.initialize();
        return { server, lines, logger };
    }
};


test('a response line is what logger.info writes for it, byte for byte but the time, for the paths a request can have', async (t) => {

    const { server, lines, logger } = await internals.server('info');
    const paths = [
        '/api/tasks',
        '/api/tasks/0b9c3b8e-5f6a-4d2e-9c1a-7e3f2d1c0b9a/complete',
        '/quote"and\\backslash',
        '/%22percent%5Cencoded%00',
        '/ünïcödé/✓/😀',
        '/control\u0001\u001f',
        '/missing',
        `/${'long'.repeat(100)}`
    ];

    for (const [i, url] of paths.entries()) {
        const method = i % 2 ? 'POST' : 'GET';
        const res = await server.inject({ method, url });
        t.true(res.statusCode === 200 || res.statusCode === 404, `${url}: ${res.statusCode}`);

        t.is(lines.length, 1, url);
        const written = lines.pop()!;
        const entry = JSON.parse(written);
        t.is(entry.req_id, res.request.requestId);
        t.is(entry.res.statusCode, res.statusCode);
        t.true(String(entry.msg).startsWith(`[response] ${method.toLowerCase()} ${res.request.path} ${res.statusCode} (`), entry.msg);

        // The same fields through pino's own path.
        logger.info({ req_id: entry.req_id, res: { statusCode: entry.res.statusCode }, responseTime: entry.responseTime }, entry.msg);
        const expected = lines.pop()!;
        t.is(written.replace(internals.timeRx, ''), expected.replace(internals.timeRx, ''), url);
        t.true(Math.abs(entry.time - JSON.parse(expected).time) < 60_000);
    }
});

test('no response line below the logger\'s level, nor for an ignored path', async (t) => {

    const quiet = await internals.server('warn');
    await quiet.server.inject('/api/tasks');
    t.deepEqual(quiet.lines, []);

    const loud = await internals.server('info');
    await loud.server.inject('/ignored');
    t.deepEqual(loud.lines, []);

    // The level is read at each line: a logger turned down at run time stops writing them.
    await loud.server.inject('/api/tasks');
    t.is(loud.lines.length, 1);
    loud.logger.level = 'error';
    await loud.server.inject('/api/tasks');
    t.is(loud.lines.length, 1);
});
