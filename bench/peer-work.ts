// What both peers of the service do for the measured requests, so that they differ only in what serves them
// (bench/bare-server.ts: node:http; bench/hapi-floor.ts: hapi): the HS256 check of a token, remembered until the token
// expires as the service remembers it, the service's SQL as named prepared statements, and the same JSON and headers.
import Crypto from 'node:crypto';
import Os from 'node:os';

import Pg from 'pg';

import { positionFirst } from '../src/data/positions';
import { prepared } from './bare-statements';


export interface Answer {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
}


/** A new task's fields as the create scenario sends them. */
export interface NewTask {
    title: string;
    description?: string | null;
    completed?: boolean;
    priority?: string;
    due_date?: string | null;
}


interface Row {
    id: string;
    due_date: string | null;
    created_at: string;
    updated_at: string;
}


const internals = {
    secret: Buffer.from(process.env.BETTER_AUTH_SECRET ?? '', 'utf8'),
    clockSkewSec: 30,
    maxTasksPerUser: 10_000,

    // The inbox's top level, where a create goes first: the start of its range of places.
    inbox: '00000000-0000-0000-0000-000000000000/00000000-0000-0000-0000-000000000000/',
    // Tokens remembered at once; past it the memory is emptied (the bench's 2 000 users' tokens fit).
    maxTokens: 10_000,
    tokens: new Map<string, { userId: string; expSec: number }>(),

    timestampRx: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(\d{3})Z$/,
    isoRx: /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/,

    /** The token's user and expiry: an HS256 signature by the shared secret; null for any other token. */
    verify(token: string): { userId: string; expSec: number } | null {

        const parts = token.split('.');
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

        const userId = claims.user_id ?? claims.sub;
        if (typeof claims.exp !== 'number' || typeof userId !== 'string' || !userId.length) {
            return null;
        }

        return { userId, expSec: claims.exp };
    },

    /** The task's ETag as the service makes it: the id's 16 bytes and updated_at in microseconds, base64url. */
    entityTag(task: Row): string {

        const [, millis, micros] = internals.timestampRx.exec(task.updated_at)!;
        const bytes = Buffer.alloc(24);
        Buffer.from(task.id.replace(/-/g, ''), 'hex').copy(bytes);
        bytes.writeBigInt64BE(BigInt(Date.parse(`${millis}Z`)) * 1000n + BigInt(micros), 16);
        return `"${bytes.toString('base64url')}"`;
    },

    /** PostgreSQL's text of a UTC timestamp in the API's form, as the service writes it. */
    timestamp(value: string | null): string | null {

        if (value === null) {
            return null;
        }

        const [, date, time, fraction = ''] = internals.isoRx.exec(value)!;
        return `${date}T${time}.${fraction.padEnd(6, '0')}Z`;
    },

    task(row: Row): Row {

        row.due_date = internals.timestamp(row.due_date);
        row.created_at = internals.timestamp(row.created_at)!;
        row.updated_at = internals.timestamp(row.updated_at)!;
        return row;
    },

    one(rows: Row[]): Answer {

        if (!rows.length) {
            return notFound;
        }

        const task = internals.task(rows[0]);
        return { status: 200, body: task, headers: { etag: internals.entityTag(task) } };
    }
};


export const notFound: Answer = { status: 404, body: { detail: 'Task not found' } };


export const unauthorized: Answer = { status: 401, body: { detail: 'Invalid authentication credentials' } };


export const unavailable: Answer = { status: 503, body: { detail: 'Service temporarily unavailable' } };


export const uuidRx = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;


/** WEB_CONCURRENCY as the service reads it: N processes sharing the port, or one per core with auto. */
export function workers(): number {

    const raw = process.env.WEB_CONCURRENCY ?? '1';
    return raw === 'auto' ? Os.availableParallelism() : Math.max(1, Number.parseInt(raw, 10) || 1);
}


/** The pool both peers use: DB_POOL_MAX connections, as the service has. */
export function createPool(): Pg.Pool {

    const pool = new Pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
    pool.on('error', () => {

        // An idle client lost its connection: the pool replaces it on the next query.
    });

    return pool;
}


/**
 * The user of an `Authorization` header, as the service finds it: a Bearer HS256 token signed by the shared secret
 * and not past its exp (with the service's clock skew). A verified token is remembered until it expires.
 */
export function userOf(authorization: string | undefined): string | null {

    if (!authorization?.startsWith('Bearer ')) {
        return null;
    }

    const token = authorization.slice(7);
    let known = internals.tokens.get(token);
    if (!known) {
        const verified = internals.verify(token);
        if (!verified) {
            return null;
        }

        if (internals.tokens.size >= internals.maxTokens) {
            internals.tokens.clear();
        }

        known = verified;
        internals.tokens.set(token, known);
    }

    if (known.expSec + internals.clockSkewSec <= Date.now() / 1000) {
        internals.tokens.delete(token);
        return null;
    }

    return known.userId;
}


/** A page of the user's tasks, newest first, with the next page's cursor when there is one. */
export async function listTasks(pool: Pg.Pool, userId: string, limit: number, path: string): Promise<Answer> {

    const { rows } = await pool.query<Row>(prepared('list', [userId, limit + 1]));
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


export async function getTask(pool: Pg.Pool, userId: string, id: string): Promise<Answer> {

    const { rows } = await pool.query<Row>(prepared('get', [userId, id]));
    return internals.one(rows);
}


export async function toggleTask(pool: Pg.Pool, userId: string, id: string): Promise<Answer> {

    const { rows } = await pool.query<Row>(prepared('toggle', [userId, id]));
    return internals.one(rows);
}


export async function createTask(pool: Pg.Pool, userId: string, fields: NewTask): Promise<Answer> {

    const { rows: [first] } = await pool.query<{ position: string }>(prepared('first', [userId, internals.inbox, `${internals.inbox.slice(0, -1)}0`]));
    const position = positionFirst(first?.position ?? null);
    const values = [userId, fields.title, fields.description ?? null, fields.completed ?? false, fields.priority ?? 'medium', fields.due_date ?? null, internals.maxTasksPerUser, null, null, position];
    const { rows } = await pool.query<Row>(prepared('create', values));
    if (!rows.length) {
        return { status: 409, body: { detail: 'Task limit reached' } };
    }

    const task = internals.task(rows[0]);
    return { status: 201, body: task, headers: { location: `/api/tasks/${task.id}`, etag: internals.entityTag(task) } };
}


/** What /health answers once the database does. */
export async function health(pool: Pg.Pool): Promise<Answer> {

    await pool.query('select 1');
    return { status: 200, body: { status: 'ok' } };
}
