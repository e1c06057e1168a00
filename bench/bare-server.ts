// The practical limit every figure of `npm run bench` is set against: node:http and pg doing what todo-api does for
// the measured requests (bench/peer-work.ts: the same token check, the service's SQL as named prepared statements,
// the same JSON) and nothing else: no framework, no validation beyond what the statements need, no logging. It reads
// the same variables as the service (HOST, PORT, DATABASE_URL, BETTER_AUTH_SECRET, DB_POOL_MAX, WEB_CONCURRENCY).
// The harness checks that its statements and answers equal the service's before it measures anything.
import Cluster from 'node:cluster';
import Http from 'node:http';

import type Pg from 'pg';

import type { Answer } from './peer-work';
import { createPool, createTask, getTask, health, listTasks, notFound, toggleTask, unauthorized, unavailable, userOf, uuidRx, workers } from './peer-work';


const internals = {
    maxBodyBytes: 64 * 1024,
    defaultLimit: 100,
    taskPathRx: /^\/api\/tasks\/([^/]+)$/,
    completePathRx: /^\/api\/tasks\/([^/]+)\/complete$/
};


function readBody(req: Http.IncomingMessage): Promise<string> {

    return new Promise((resolve, reject) => {

        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (chunk: Buffer) => {

            size += chunk.length;
            if (size > internals.maxBodyBytes) {
                reject(new Error('body too large'));
                req.destroy();
                return;
            }

            chunks.push(chunk);
        });
        req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        req.once('error', reject);
    });
}


async function answer(pool: Pg.Pool, req: Http.IncomingMessage): Promise<Answer> {

    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);

    if (req.method === 'GET' && path === '/health') {
        return await health(pool);
    }

    const userId = userOf(req.headers.authorization);
    if (!userId) {
        return unauthorized;
    }

    if (path === '/api/tasks' && req.method === 'GET') {
        const limit = query === -1 ? internals.defaultLimit : Number(new URLSearchParams(url.slice(query)).get('limit') ?? internals.defaultLimit);
        return await listTasks(pool, userId, limit, path);
    }

    if (path === '/api/tasks' && req.method === 'POST') {
        return await createTask(pool, userId, JSON.parse(await readBody(req)));
    }

    const task = req.method === 'GET' ? internals.taskPathRx.exec(path) : null;
    const complete = req.method === 'PATCH' ? internals.completePathRx.exec(path) : null;
    const id = (task ?? complete)?.[1];
    if (id === undefined || !uuidRx.test(id)) {
        return notFound;
    }

    return task ? await getTask(pool, userId, id) : await toggleTask(pool, userId, id);
}


function serve(): void {

    const pool = createPool();
    const server = Http.createServer(async (req, res) => {

        let result: Answer;
        try {
            result = await answer(pool, req);
        }
        catch {
            result = unavailable;
        }

        const body = JSON.stringify(result.body);
        res.writeHead(result.status, {
            ...result.headers,
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body)
        });
        res.end(body);
    });

    server.listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? '127.0.0.1');
    process.once('SIGTERM', () => {

        server.close(() => {

            void pool.end();
        });
    });
}


// N processes on one port, as node:cluster gives the service: the primary only hands connections out.
if (Cluster.isPrimary && workers() > 1) {
    for (let i = 0; i < workers(); ++i) {
        Cluster.fork();
    }

    process.once('SIGTERM', () => {

        for (const worker of Object.values(Cluster.workers ?? {})) {
            worker?.process.kill('SIGTERM');
        }
    });
}
else {
    serve();
}
