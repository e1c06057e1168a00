// The framework's own floor: the least a hapi server does for the measured requests. One route per scenario, each
// handler the bare peer's work (bench/peer-work.ts: the same cached HS256 check, in an auth scheme, the same SQL as
// named prepared statements, the same JSON), with no validation, no logging and no extension: what the service
// cannot go below while it is a hapi server. It reads the same variables as the service and the bare peer.
import Cluster from 'node:cluster';

import Hapi from '@hapi/hapi';
import type Pg from 'pg';

import type { Answer, NewTask } from './peer-work';
import { createPool, createTask, getTask, health, listTasks, notFound, toggleTask, unauthorized, userOf, uuidRx, workers } from './peer-work';


const internals = {
    defaultLimit: 100,

    reply(h: Hapi.ResponseToolkit, answer: Answer): Hapi.ResponseObject {

        const response = h.response(answer.body as object).code(answer.status);
        for (const [name, value] of Object.entries(answer.headers ?? {})) {
            response.header(name, value);
        }

        return response;
    },

    userId(request: Hapi.Request): string {

        return (request.auth.credentials as { userId: string }).userId;
    },

    /** A task's route: 404 for an id that is no UUID, as the service answers. */
    task(pool: Pg.Pool, work: (pool: Pg.Pool, userId: string, id: string) => Promise<Answer>): Hapi.Lifecycle.Method {

        return async (request, h) => {

            const id = request.params.id as string;
            return internals.reply(h, uuidRx.test(id) ? await work(pool, internals.userId(request), id) : notFound);
        };
    }
};


async function serve(): Promise<void> {

    const pool = createPool();
    const server = Hapi.server({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 8000), debug: false });

    server.auth.scheme('bench-token', () => ({
        authenticate(request, h) {

            const userId = userOf(request.headers.authorization as string | undefined);
            return userId ? h.authenticated({ credentials: { userId } }) : internals.reply(h, unauthorized).takeover();
        }
    }));
    server.auth.strategy('token', 'bench-token');
    server.auth.default('token');

    server.route([
        {
            method: 'GET', path: '/health', options: { auth: false },
            handler: async (_request, h) => internals.reply(h, await health(pool))
        },
        {
            method: 'GET', path: '/api/tasks',
            handler: async (request, h) => {

                const limit = request.query.limit === undefined ? internals.defaultLimit : Number(request.query.limit);
                return internals.reply(h, await listTasks(pool, internals.userId(request), limit, request.path));
            }
        },
        {
            method: 'POST', path: '/api/tasks',
            handler: async (request, h) => internals.reply(h, await createTask(pool, internals.userId(request), request.payload as NewTask))
        },
        { method: 'GET', path: '/api/tasks/{id}', handler: internals.task(pool, getTask) },
        { method: 'PATCH', path: '/api/tasks/{id}/complete', handler: internals.task(pool, toggleTask) }
    ]);

    await server.start();
    process.once('SIGTERM', async () => {

        await server.stop({ timeout: 5000 });
        await pool.end();
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
    void serve();
}
