// npm run bench:outage: PostgreSQL stopped (fast shutdown) under load and started again, as an operator's restart
// or a failover does. 20 clients create tasks through the service all along; the run reports every status seen,
// how soon requests got 503 once the database went, how soon they got 201 again once it was back, and whether every
// create that got a 201 is in the database. It stops and starts the local cluster with pg_ctlcluster: run it on a
// machine of your own, never against a shared server. Usage: npm run bench:outage [-- --clients 20 --down-ms 2000]
import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Http from 'node:http';
import { parseArgs } from 'node:util';

import Knex from 'knex';

import { mintToken } from '../src/auth/tokens';
import { startServer } from './servers';


interface Answer {
    at: number;
    status: number | 'refused';
    ms: number;
    id?: string;
}


const internals = {
    user: 'outage-user',
    secret: 'outage-secret-that-is-long-enough-0123456789',

    cluster(action: 'stop' | 'start'): void {

        const version = Fs.readdirSync('/etc/postgresql')[0];
        const args = ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])];
        ChildProcess.execFileSync('pg_ctlcluster', args, { stdio: 'inherit' });
    },

    ready(): boolean {

        return ChildProcess.spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']).status === 0;
    },

    post(url: string, token: string, agent: Http.Agent): Promise<Answer> {

        const at = performance.now();
        return new Promise((resolve) => {

            const req = Http.request(`${url}/api/tasks`, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {

                let body = '';
                res.on('data', (chunk) => (body += chunk));
                res.on('end', () => resolve({ at, status: res.statusCode!, ms: performance.now() - at, id: res.statusCode === 201 ? JSON.parse(body).id : undefined }));
            });

            req.on('error', () => resolve({ at, status: 'refused', ms: performance.now() - at }));
            req.end(JSON.stringify({ title: 'Created through an outage' }));
        });
    },

    sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
};


async function main(): Promise<void> {

    const { values } = parseArgs({
        options: {
            clients: { type: 'string', default: '20' },
            'down-ms': { type: 'string', default: '2000' },
            database: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/todo_bench' }
        }
    });

    const db = Knex({ client: 'pg', connection: values.database, pool: { min: 0, max: 1 } });
    await db.raw('delete from tasks where user_id = ?', [internals.user]);
    await db.destroy();

    const server = await startServer('service', { databaseUrl: values.database, secret: internals.secret, cpus: null, workers: null, logFile: '/dev/null' });
    const token = mintToken({ secret: Buffer.from(internals.secret), issuer: null, audience: null }, { userId: internals.user, ttlSec: 3600 }).token;
    const answers: Answer[] = [];
    let running = true;

    const client = async () => {

        const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 });
        while (running) {
            const answer = await internals.post(server.url, token, agent);
            answers.push(answer);
            if (answer.status === 'refused') {
                await internals.sleep(10);
            }
        }
    };

    const clients = Array.from({ length: Number(values.clients) }, client);
    await internals.sleep(2000);

    const stoppedAt = performance.now();
    internals.cluster('stop');
    const stopDone = performance.now();
    await internals.sleep(Number(values['down-ms']));
    internals.cluster('start');
    while (!internals.ready()) {
        await internals.sleep(20);
    }

    const upAt = performance.now();
    await internals.sleep(3000);
    running = false;
    await Promise.all(clients);
    await server.stop();

    const counts: Record<string, number> = {};
    for (const answer of answers) {
        counts[answer.status] = (counts[answer.status] ?? 0) + 1;
    }

    const first503 = answers.filter((answer) => answer.status === 503).sort((a, b) => a.at + a.ms - (b.at + b.ms))[0];
    const during = answers.filter((answer) => answer.at >= stopDone && answer.at + answer.ms <= upAt);
    const firstBack = answers.filter((answer) => answer.status === 201 && answer.at >= upAt).sort((a, b) => a.at + a.ms - (b.at + b.ms))[0];
    const acknowledged = answers.filter((answer) => answer.id).map((answer) => answer.id!);

    const check = Knex({ client: 'pg', connection: values.database, pool: { min: 0, max: 1 } });
    const stored = new Set((await check.raw('select id from tasks where id = any(?)', [acknowledged])).rows.map((row: { id: string }) => row.id));
    await check.raw('delete from tasks where user_id = ?', [internals.user]);
    await check.destroy();

    const lost = acknowledged.filter((id) => !stored.has(id));
    console.log(JSON.stringify({
        clients: Number(values.clients),
        statuses: counts,
        first_503_after_stop_ms: first503 ? Math.round(first503.at + first503.ms - stoppedAt) : null,
        pg_stop_took_ms: Math.round(stopDone - stoppedAt),
        slowest_answer_while_down_ms: during.length ? Math.round(Math.max(...during.map((answer) => answer.ms))) : null,
        first_201_after_ready_ms: firstBack ? Math.round(firstBack.at + firstBack.ms - upAt) : null,
        acknowledged: acknowledged.length,
        lost: lost.length
    }, null, 2));

    if (lost.length || counts[500]) {
        process.exitCode = 1;
    }
}


main().catch((err) => {

    console.error(err);
    process.exit(1);
});
