// The baseline every figure of `npm run bench` is set against: node:http and pg doing what todo-api does for the
// measured requests (the same HS256 token check, the service's SQL statements as bench/bare-statements.ts has them,
// the same JSON) and nothing else: no framework, no validation beyond what the statements need, no logging. It reads
// the same variables as the service (HOST, PORT, DATABASE_URL, BETTER_AUTH_SECRET, DB_POOL_MAX, WEB_CONCURRENCY).
// The harness checks that its statements and answers equal the service's before it measures anything.
import Cluster from 'node:cluster';
import Crypto from 'node:crypto';
import Http from 'node:http';
import Os from 'node:os';

import Pg from 'pg';

import { bareStatements } from './bare-statements';


interface Answer {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
}


const internals = {
    secret: Buffer.from(process.env.BETTER_AUTH_SECRET ?? '', 'utf8'),
    clockSkewSec: 30,
    maxBodyBytes: 64 * 1024,
    defaultLimit: 100,

    uuidRx: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    taskPathRx: /^\/api\/tasks\/([^/]+)$/,
    completePathRx: /^\/api\/tasks\/([^/]+)\/complete$/,

    workers(): number {

        const raw = process.env.WEB_CONCURRENCY ?? '1';
        return raw === 'auto' ? Os.availableParallelism() : Math.max(1, Number.parseInt(raw, 10) || 1);
    },

    maxTasksPerUser: 10_000,
    timestampRx: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(\d{3})Z$/,

    /** The task's ETag as the service makes it: the id's 16 bytes and updated_at in microseconds, base64url. */
    entityTag(task: { id: string; updated_at: string }): string {

        const [, millis, micros] = internals.timestampRx.exec(task.updated_at)!;
        const bytes = Buffer.alloc(24);
        Buffer.from(task.id.replace(/-/g, ''), 'hex').copy(bytes);
        bytes.writeBigInt64BE(BigInt(Date.parse(`${millis}Z`)) * 1000n + BigInt(micros), 16);
        return `"${bytes.toString('base64url')}"`;
    },

    isoRx: /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/,

    /** PostgreSQL's text of a UTC timestamp in the API's form, as the service writes it. */
    timestamp(value: string | null): string | null {

        if (value === null) {
            return null;
        }

        const [, date, time, fraction = ''] = internals.isoRx.exec(value)!;
        return `${date}T${time}.${fraction.padEnd(6, '0')}Z`;
    },

    task<T extends { due_date: string | null; created_at: string; updated_at: string }>(row: T): T {

        row.due_date = internals.timestamp(row.due_date);
        row.created_at = internals.timestamp(row.created_at)!;
        row.updated_at = internals.timestamp(row.updated_at)!;
        return row;
    },

    notFound: { status: 404, body: { detail: 'Task not found' } } as Answer,
    unauthorized: { status: 401, body: { detail: 'Invalid authentication credentials' } } as Answer
};


/** The token's user, as the service finds it: an HS256 signature by the shared secret, an exp not past. */
function userOf(authorization: string | undefined): string | null {

    if (!authorization?.startsWith('Bearer ')) {
        return null;
    }

    const parts = authorization.slice(7).split('.');
    if (parts.length !== 3) {
        return null;
    }

    const [header, payload, signature] = parts;
    let claims: { exp?: unknown; user_id?: unknown; sub?: unknown };
    try {
        if (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')).alg !== 'HS256') {
            return null;
        }

        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    }
    catch {
        return null;
    }

    const expected = Crypto.createHmac('sha256', internals.secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !Crypto.timingSafeEqual(given, expected)) {
        return null;
    }

    if (typeof claims.exp !== 'number' || claims.exp + internals.clockSkewSec <= Date.now() / 1000) {
        return null;
    }

    const userId = claims.user_id ?? claims.sub;
    return typeof userId === 'string' && userId.length > 0 ? userId : null;
}


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
        await pool.query('select 1');
        return { status: 200, body: { status: 'ok' } };
    }

    const userId = userOf(req.headers.authorization);
    if (!userId) {
        return internals.unauthorized;
    }

    if (path === '/api/tasks' && req.method === 'GET') {
        const limit = query === -1 ? internals.defaultLimit : Number(new URLSearchParams(url.slice(query)).get('limit') ?? internals.defaultLimit);
        const { rows } = await pool.query(bareStatements.list, [userId, limit + 1]);
        for (const row of rows) {
            internals.task(row);
        }

        if (rows.length <= limit) {
            return { status: 200, body: rows };
        }

        rows.length = limit;
        const last = rows[limit - 1];
        const cursor = Buffer.from(JSON.stringify(['created_at', 'desc', last.created_at, last.id])).toString('base64url');
        return { status: 200, body: rows, headers: { 'x-next-cursor': cursor, link: `<${path}?limit=${limit}&cursor=${cursor}>; rel="next"` } };
    }

    if (path === '/api/tasks' && req.method === 'POST') {
        const fields = JSON.parse(await readBody(req));
        const values = [userId, fields.title, fields.description ?? null, fields.completed ?? false, fields.priority ?? 'medium', fields.due_date ?? null,
            userId, internals.maxTasksPerUser, internals.maxTasksPerUser];
        const { rows } = await pool.query(bareStatements.create, values);
        rows.forEach(internals.task);
        if (!rows.length) {
            return { status: 409, body: { detail: 'Task limit reached' } };
        }

        return { status: 201, body: rows[0], headers: { location: `/api/tasks/${rows[0].id}`, etag: internals.entityTag(rows[0]) } };
    }

    const task = req.method === 'GET' ? internals.taskPathRx.exec(path) : null;
    const complete = req.method === 'PATCH' ? internals.completePathRx.exec(path) : null;
    const id = (task ?? complete)?.[1];
    if (id === undefined || !internals.uuidRx.test(id)) {
        return internals.notFound;
    }

    const { rows } = await pool.query(task ? bareStatements.get : bareStatements.toggle, [userId, id]);
    rows.forEach(internals.task);
    return rows.length ? { status: 200, body: rows[0], headers: { etag: internals.entityTag(rows[0]) } } : internals.notFound;
}


function serve(): void {

    const pool = new Pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
    pool.on('error', () => {

        // An idle client lost its connection: the pool replaces it on the next query.
    });

    const server = Http.createServer(async (req, res) => {

        let result: Answer;
        try {
            result = await answer(pool, req);
        }
        catch {
            result = { status: 503, body: { detail: 'Service temporarily unavailable' } };
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
if (Cluster.isPrimary && internals.workers() > 1) {
    for (let i = 0; i < internals.workers(); ++i) {
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
