// npm run bench:plans: every list variant (each sort and order, each filter, a page after a cursor) on the big data
// set (100 000 users x 100 tasks, made by npm run bench -- --scale big), against the plain list: the database's
// execution time of the statement the data layer sends (EXPLAIN ANALYZE), and the time the service takes to answer
// the request, one request at a time. No plan may read the whole table (a sequential scan). Prints one table,
// writes it and the slowest variant's plan to bench/RESULTS.md.
// Usage: npm run bench:plans [-- --users 200 --postgres postgres://postgres@127.0.0.1:5432]
import Http from 'node:http';
import { parseArgs } from 'node:util';

import type { Knex } from 'knex';

import { mintToken } from '../src/auth/tokens';
import type { TaskListOptions } from '../src/data/tasks';
import { positional } from '../src/data/query';
import { buildListStatement } from '../src/data/tasks';
import { progress } from './cli';
import { benchUserIds, databaseUrl, dataSets, postgresVersion, prepareDataSet, withDatabase } from './database';
import { describeMachine, machine, median, ms, ratio, table, writeResults } from './report';
import { startServer } from './servers';


interface PlanNode {
    'Node Type': string;
    'Index Name'?: string;
    'Shared Hit Blocks'?: number;
    'Shared Read Blocks'?: number;
    Plans?: PlanNode[];
}


interface Variant {
    name: string;
    /** The request's query string. */
    query: string;
    options: Omit<TaskListOptions, 'limit'>;
}


const internals = {
    secret: 'plans-secret-that-is-long-enough-0123456789',
    limit: 20,
    requestsPerUser: 3,

    // On the big set every user has 100 tasks titled 'Task 1'..'Task 100', no description and no due date: a due-date
    // filter or a search for text no task has reads all of the user's rows and returns none, the worst case.
    variants: [
        { name: 'plain (created_at desc)', query: '', options: {} },
        { name: 'page 2 (after a cursor)', query: 'after', options: {} },
        ...(['created_at', 'updated_at', 'due_date', 'priority', 'title'] as const).flatMap((sort) => {

            return (['asc', 'desc'] as const).map((order) => (
                { name: `sort=${sort}&order=${order}`, query: `sort=${sort}&order=${order}`, options: { sort, order } }));
        }),
        { name: 'status=pending', query: 'status=pending', options: { completed: false } },
        { name: 'status=completed', query: 'status=completed', options: { completed: true } },
        { name: 'priority=high', query: 'priority=high', options: { priorities: ['high'] } },
        { name: 'priority=low&priority=high&sort=priority', query: 'priority=low&priority=high&sort=priority', options: { priorities: ['low', 'high'], sort: 'priority' } },
        { name: 'due_before (none due)', query: 'due_before=2030-01-01T00:00:00Z', options: { dueBefore: '2030-01-01T00:00:00.000Z' } },
        { name: 'due_after&sort=due_date (none due)', query: 'due_after=2020-01-01T00:00:00Z&sort=due_date', options: { dueAfter: '2020-01-01T00:00:00.000Z', sort: 'due_date' } },
        { name: 'overdue=true (none due)', query: 'overdue=true', options: { overdue: true } },
        { name: 'q=task 5 (11 of 100 match)', query: 'q=task%205', options: { search: 'task 5' } },
        { name: 'q=no such text (none match)', query: 'q=no%20such%20text', options: { search: 'no such text' } },
        { name: 'q + status + priority + sort=title', query: 'q=task&status=pending&priority=medium&sort=title', options: { search: 'task', completed: false, priorities: ['medium'], sort: 'title' } },
        // The user's order, and one list (a quarter of the user's tasks; `{list}` is the user's first list).
        { name: 'sort=position', query: 'sort=position', options: { sort: 'position' } },
        { name: 'sort=position&order=desc', query: 'sort=position&order=desc', options: { sort: 'position', order: 'desc' } },
        { name: 'list_id=<id>&sort=position', query: 'list_id={list}&sort=position', options: { listId: '{list}', sort: 'position' } },
        { name: 'list_id=<id>&parent_id=none&sort=position', query: 'list_id={list}&parent_id=none&sort=position', options: { listId: '{list}', parentId: null, sort: 'position' } },
        { name: 'list_id=inbox&sort=position', query: 'list_id=inbox&sort=position', options: { listId: null, sort: 'position' } },
        { name: 'list_id=<id> (created_at desc)', query: 'list_id={list}', options: { listId: '{list}' } }
    ] as Variant[],

    listMarker: '{list}',

    /** A variant's options and query for a user: `{list}` made the user's first list. */
    forUser(variant: Variant, list: string): { options: Omit<TaskListOptions, 'limit'>; query: string } {

        const options = variant.options.listId === internals.listMarker ? { ...variant.options, listId: list } : variant.options;
        return { options, query: variant.query.replaceAll(internals.listMarker, list) };
    },

    nodes(plan: PlanNode): PlanNode[] {

        return [plan, ...(plan.Plans ?? []).flatMap(internals.nodes)];
    },

    /** The plan in short: the nodes below the Limit, with the index read. */
    shape(plan: PlanNode[]): string {

        return plan.slice(1).map((node) => (node['Index Name'] ? `${node['Node Type']} on ${node['Index Name']}` : node['Node Type'])).join(' > ');
    },

    get(url: string, token: string, agent: Http.Agent): Promise<{ ms: number; status: number; next: string | undefined }> {

        const started = performance.now();
        return new Promise((resolve, reject) => {

            Http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {

                res.resume();
                res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode!, next: res.headers['x-next-cursor'] as string | undefined }));
            }).on('error', reject);
        });
    }
};


async function main(): Promise<void> {

    const { values } = parseArgs({ options: { users: { type: 'string', default: '200' }, postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' } } });
    const set = dataSets.big;
    const started = new Date();
    await prepareDataSet(values.postgres, set);
    const users = benchUserIds(set).readers.slice(0, Number(values.users));
    const firstLists = new Map<string, string>();

    // The database: each variant's statement for each user, as the data layer builds and binds it.
    const database = new Map<string, { executionMs: number[]; blocks: number[]; shapes: Set<string>; plan?: string }>();
    await withDatabase(databaseUrl(values.postgres, set.name), async (db) => {

        const { rows: owned } = await db.knex.raw('select distinct on (user_id) user_id, id from lists where user_id = any(?) order by user_id, position', [users]);
        for (const row of owned) {
            firstLists.set(row.user_id, row.id);
        }

        if (firstLists.size !== users.length) {
            throw new Error(`${users.length - firstLists.size} of the users have no list: the data set was seeded without lists`);
        }

        // Twice: the first pass brings the users' pages into memory and is not counted.
        for (const counted of [false, true]) {
            for (const variant of internals.variants) {
                const result = { executionMs: [] as number[], blocks: [] as number[], shapes: new Set<string>(), plan: undefined as string | undefined };
                for (const userId of users) {
                    let options: TaskListOptions = { ...internals.forUser(variant, firstLists.get(userId)!).options, limit: internals.limit };
                    if (variant.query === 'after') {
                        const { rows } = await db.knex.raw('select created_at, id from tasks where user_id = ? order by created_at desc, id desc offset ? limit 1', [userId, internals.limit - 1]);
                        options = { ...options, after: { key: rows[0].created_at.toISOString(), id: rows[0].id } };
                    }

                    const list = buildListStatement(options);
                    const { sql, bindings } = positional(list.statement, list.values(userId, options));
                    const { rows } = await db.knex.raw(`explain (analyze, buffers, format json) ${sql}`, bindings as Knex.RawBinding[]);
                    const explained = rows[0]['QUERY PLAN'][0];
                    const plan = internals.nodes(explained.Plan as PlanNode);
                    if (plan.some((node) => node['Node Type'] === 'Seq Scan')) {
                        throw new Error(`${variant.name}: the plan reads the whole table`);
                    }

                    result.shapes.add(internals.shape(plan));
                    if (!counted) {
                        continue;
                    }

                    result.executionMs.push(explained['Execution Time']);
                    result.blocks.push((explained.Plan['Shared Hit Blocks'] ?? 0) + (explained.Plan['Shared Read Blocks'] ?? 0));
                    if (!result.plan) {
                        const text = await db.knex.raw(`explain (analyze, buffers) ${sql}`, bindings as Knex.RawBinding[]);
                        result.plan = text.rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
                    }
                }

                if (!counted) {
                    continue;
                }

                database.set(variant.name, result);
                progress(`${variant.name}: ${ms(median(result.executionMs))} in the database`);
            }
        }
    });

    // The service: one request at a time over one keep-alive connection, so a time is a request's own.
    const server = await startServer('service', { databaseUrl: databaseUrl(values.postgres, set.name), secret: internals.secret, cpus: null, workers: null, logFile: '/dev/null' });
    const service = new Map<string, number[]>();
    try {
        const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 });
        const tokens = users.map((userId) => mintToken({ secret: Buffer.from(internals.secret), issuer: null, audience: null }, { userId, ttlSec: 3600 }).token);
        const cursors = new Map<string, string>();
        for (const [n, token] of tokens.entries()) {
            const first = await internals.get(`${server.url}/api/tasks?limit=${internals.limit}`, token, agent);
            cursors.set(users[n], first.next!);
        }

        // Interleaved, so that whatever else the machine does weighs on every variant alike; the first pass warms the
        // server up and is not counted.
        for (const variant of internals.variants) {
            service.set(variant.name, []);
        }

        for (let round = 0; round <= internals.requestsPerUser; ++round) {
            for (const [n, token] of tokens.entries()) {
                for (const variant of internals.variants) {
                    const query = variant.query === 'after' ? `cursor=${encodeURIComponent(cursors.get(users[n])!)}` : internals.forUser(variant, firstLists.get(users[n])!).query;
                    const reply = await internals.get(`${server.url}/api/tasks?limit=${internals.limit}${query ? `&${query}` : ''}`, token, agent);
                    if (reply.status !== 200) {
                        throw new Error(`${variant.name}: ${reply.status}`);
                    }

                    if (round > 0) {
                        service.get(variant.name)!.push(reply.ms);
                    }
                }
            }

            progress(`through the service: round ${round} of ${internals.requestsPerUser}${round ? '' : ' (warm-up, not counted)'}`);
        }

        agent.destroy();
    }
    finally {
        await server.stop();
    }

    const plainDb = median(database.get(internals.variants[0].name)!.executionMs);
    const plainService = median(service.get(internals.variants[0].name)!);
    const rows = internals.variants.map((variant) => {

        const db = database.get(variant.name)!;
        const times = service.get(variant.name)!;
        return [
            variant.name, [...db.shapes].join('; '), ms(median(db.executionMs)), ratio(median(db.executionMs) / plainDb), median(db.blocks),
            ms(median(times)), ratio(median(times) / plainService)
        ];
    });

    const slowest = internals.variants.reduce((worst, variant) => (median(service.get(variant.name)!) > median(service.get(worst.name)!) ? variant : worst));
    const info = machine(await postgresVersion(values.postgres));
    const body = [
        `Run ${started.toISOString()} on ${describeMachine(info)}.`,
        `Data: ${set.name}, ${set.users.toLocaleString('en')} users × ${set.tasksPerUser} tasks; limit=${internals.limit}; ${users.length} users spread over the set. ` +
        'Database: the median execution time (EXPLAIN ANALYZE) and buffers of the statement the data layer sends, per user. ' +
        `Service: the median time to answer, ${internals.requestsPerUser} requests per user one at a time on one keep-alive connection, the variants interleaved, after a pass not counted. ` +
        'No plan reads the whole table. Where the statistics say a filter keeps almost nothing (no task here has a due date), ' +
        'the planner may read the user\'s rows by another index and sort what is left: it reads those rows either way.',
        table(['variant', 'plan', 'database', 'database ratio', 'buffers', 'service', 'service ratio'], rows),
        `The slowest variant through the service, ${slowest.name}, for the first of those users:`,
        ['```', database.get(slowest.name)!.plan!, '```'].join('\n')
    ].join('\n\n');

    console.log(body);
    writeResults('npm run bench:plans', body);
}


main().catch((err) => {

    console.error(err);
    process.exit(1);
});
