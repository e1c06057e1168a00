// The baseline: node:http + pg answering GET /api/tasks with the same query and JSON, and nothing else
// (no framework, no auth, no validation, no logging). What todo-api costs is measured against this.
import Http from 'node:http';

import Pg from 'pg';


const pool = new Pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const userId = process.env.BENCH_USER!;
const ts = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
const sql = `select id, user_id, title, description, completed, priority, ${ts('due_date')}, ${ts('created_at')}, ${ts('updated_at')}
    from tasks where user_id = $1 order by created_at desc, id desc limit $2`;

const server = Http.createServer(async (_req, res) => {

    try {
        const result = await pool.query(sql, [userId, 101]);
        const body = JSON.stringify(result.rows.slice(0, 100));
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
    }
    catch {
        res.writeHead(503).end();
    }
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', port: (server.address() as { port: number }).port })));
process.once('SIGTERM', () => server.close(() => pool.end()));
