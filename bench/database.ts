// The benchmark's own PostgreSQL databases: created when missing, migrated and filled by the bulk seed, and reused
// by the next run when they still hold exactly what the seed made.
import type { Knex } from 'knex';

import { bulkSeed, syntheticUserId } from '../src/data/bulk-seed';
import type { Database } from '../src/data/database';
import { createDatabase } from '../src/data/connection';
import { migrationConfig } from '../src/data/migrations';
import type { Query } from '../src/data/query';
import { positional } from '../src/data/query';
import { taskStore } from '../src/data/tasks';
import { silentKnexLogger } from '../src/logger';
import { progress } from './cli';


export interface DataSet {
    /** The database's name on the benchmark's PostgreSQL. */
    name: string;
    users: number;
    tasksPerUser: number;
    /** Lists per user, holding three of every four tasks (see bulkSeed). */
    listsPerUser: number;
}


/** The users a run sends requests as: readers list, get and toggle tasks, creators add them. */
export interface BenchUsers {
    readers: { userId: string; taskId: string }[];
    creators: string[];
}


export const dataSets = {
    standard: { name: 'todo_bench', users: 10_000, tasksPerUser: 20, listsPerUser: 0 },
    big: { name: 'todo_bench_big', users: 100_000, tasksPerUser: 100, listsPerUser: 3 }
} satisfies Record<string, DataSet>;


const internals = {
    usersPerRun: 1000,
    // Titles the seed never writes ('Task N'): the create scenario's rows are found and removed by it.
    createdTitle: 'Bench task',
    // Thrown to roll back the transaction that only serves to see the service's statements.
    rolledBack: new Error('rolled back: the statements were only looked at'),

    open(url: string): Promise<Database> {

        return createDatabase({ kind: 'postgres', url, poolMax: 4, timeoutMs: 10_000, queryTimeoutMs: 0 }, { log: silentKnexLogger() });
    },

    /** The n-th of usersPerRun users spread over the whole data set, so the rows read are not all in a few pages. */
    spread(set: DataSet, n: number, shift: number): string {

        const stride = Math.floor(set.users / internals.usersPerRun);
        return syntheticUserId(n * stride + 1 + shift);
    },

    async seededRight(db: Database, set: DataSet): Promise<boolean> {

        const [, pending] = await db.knex.migrate.list(migrationConfig);
        if (pending.length) {
            return false;
        }

        const { rows } = await db.knex.raw('select (select count(*) from users)::int as users, (select count(*) from tasks)::bigint as tasks, (select count(*) from lists)::int as lists');
        return rows[0].users === set.users && Number(rows[0].tasks) === set.users * set.tasksPerUser && rows[0].lists === set.users * set.listsPerUser;
    }
};


export const createdTaskTitle = internals.createdTitle;


export function databaseUrl(server: string, name: string): string {

    const url = new URL(server);
    url.pathname = `/${name}`;
    return url.toString();
}


/**
 * Makes sure the data set's database exists, is migrated, and holds exactly the seed's users and tasks (rows left by
 * an interrupted run's create scenario removed); anything else is dropped and seeded again. Ends with a vacuum, so
 * every run starts from the same state of the table and its statistics.
 */
export async function prepareDataSet(server: string, set: DataSet): Promise<void> {

    if (set.users < 2 * internals.usersPerRun) {
        throw new Error(`a data set needs at least ${2 * internals.usersPerRun} users`);
    }

    const admin = await internals.open(databaseUrl(server, 'postgres'));
    try {
        const { rows } = await admin.knex.raw('select 1 from pg_database where datname = ?', [set.name]);
        let db = rows.length ? await internals.open(databaseUrl(server, set.name)) : null;

        if (db) {
            await removeCreatedTasks(db, benchUserIds(set).creators);
            if (!await internals.seededRight(db, set)) {
                progress(`${set.name} does not hold ${set.users} users × ${set.tasksPerUser} tasks: seeding it again`);
                await db.destroy();
                db = null;
                await admin.knex.raw('drop database ?? with (force)', [set.name]);
            }
        }

        if (!db) {
            await admin.knex.raw('create database ??', [set.name]);
            db = await internals.open(databaseUrl(server, set.name));
            await seed(db, set);
        }

        await db.knex.raw('vacuum analyze tasks');
        await db.knex.raw('vacuum analyze lists');
        await db.destroy();
    }
    finally {
        await admin.destroy();
    }
}


async function seed(db: Database, set: DataSet): Promise<void> {

    await db.knex.migrate.latest(migrationConfig);
    const started = Date.now();
    let reported = 0;
    const result = await bulkSeed(db, {
        users: set.users,
        tasksPerUser: set.tasksPerUser,
        listsPerUser: set.listsPerUser,
        batch: 1000,
        concurrency: 2,
        onBatch(done) {

            const percent = Math.floor(100 * done.usersDone / set.users);
            if (percent >= reported + 10) {
                reported = percent;
                progress(`seeding ${set.name}: ${percent}%`);
            }
        }
    });

    progress(`seeded ${set.name}: ${result.usersAdded} users, ${result.tasksAdded} tasks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}


/** The users of a run, spread over the data set: reader k of 1000 is user k × (users / 1000) + 1, creators sit between. */
export function benchUserIds(set: DataSet): { readers: string[]; creators: string[] } {

    const half = Math.floor(set.users / internals.usersPerRun / 2);
    return {
        readers: Array.from({ length: internals.usersPerRun }, (_, n) => internals.spread(set, n, 0)),
        creators: Array.from({ length: internals.usersPerRun }, (_, n) => internals.spread(set, n, half))
    };
}


/** The run's users with, for each reader, its newest task: what get reads and toggle flips. */
export async function benchUsers(server: string, set: DataSet): Promise<BenchUsers> {

    const { readers, creators } = benchUserIds(set);
    return await withDatabase(databaseUrl(server, set.name), async (db) => {

        const { rows } = await db.knex.raw(`
            select distinct on (user_id) user_id, id from tasks
            where user_id = any(?)
            order by user_id, created_at desc, id desc`, [readers]);

        const ids = new Map<string, string>(rows.map((row: { user_id: string; id: string }) => [row.user_id, row.id]));
        const missing = readers.filter((userId) => !ids.has(userId));
        if (missing.length) {
            throw new Error(`${set.name}: ${missing.length} bench users have no tasks (${missing[0]}...)`);
        }

        return { readers: readers.map((userId) => ({ userId, taskId: ids.get(userId)! })), creators };
    });
}


/** Takes the create scenario's rows out again, so every run reads the seed's data and nothing else. */
export async function removeCreatedTasks(db: Database, creators: string[]): Promise<number> {

    const exists = await db.knex.raw('select to_regclass(\'tasks\') is not null as present');
    if (!exists.rows[0].present) {
        return 0;
    }

    const result = await db.knex.raw('delete from tasks where user_id = any(?) and title = ?', [creators, internals.createdTitle]);
    return result.rowCount;
}


export async function withDatabase<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {

    const db = await internals.open(url);
    try {
        return await fn(db);
    }
    finally {
        await db.destroy();
    }
}


export async function postgresVersion(server: string): Promise<string> {

    return await withDatabase(databaseUrl(server, 'postgres'), async (db) => {

        const { rows } = await db.knex.raw('show server_version');
        return rows[0].server_version;
    });
}


export interface Statement {
    sql: string;
    bindings: unknown[];
}


export type ServiceStatements = Record<'list' | 'listAfter' | 'get' | 'first' | 'create' | 'toggle', Statement>;


/**
 * The statements the service's data layer (src/data/tasks/) sends for the bench's requests, as its query hands them to
 * pg: each method run once, in a transaction that is rolled back. `listAfter` is the page after the first.
 */
export async function serviceStatements(server: string, set: DataSet, users: BenchUsers, limit: number): Promise<ServiceStatements> {

    const [reader] = users.readers;
    const sent: Statement[] = [];
    const statements: Partial<ServiceStatements> = {};

    await withDatabase(databaseUrl(server, set.name), async (db) => {

        const last = () => sent[sent.length - 1];

        await db.knex.transaction(async (trx) => {

            // The store's statements, as it sends them, run in the transaction.
            const query: Query = async (statement, values) => {

                sent.push({ sql: statement.text, bindings: [...values] });
                const { sql, bindings } = positional(statement, values);
                const result = await trx.raw(sql, bindings as Knex.RawBinding[]);
                return { rows: result.rows, rowCount: result.rowCount ?? 0 };
            };

            const store = taskStore({ query, transaction: (work) => work(query) }, { maxTasksPerUser: 10_000, maxListsPerUser: 1000, maxTaskDepth: 4, idempotencyKeyTtlSec: 86_400, maxIdempotencyKeysPerUser: 1000, trashRetentionDays: 30 });
            const page = await store.listTasksForUser(reader.userId, { limit });
            statements.list = last();
            if (!page.next) {
                throw new Error(`${set.name}: ${reader.userId} has no second page of ${limit}`);
            }

            await store.listTasksForUser(reader.userId, { limit, after: page.next });
            statements.listAfter = last();
            await store.getTaskForUser(reader.userId, reader.taskId);
            statements.get = last();
            await store.createTaskForUser(users.creators[0], { title: internals.createdTitle, description: null, completed: false, priority: 'high', due_date: null });
            statements.first = sent[sent.length - 2];
            statements.create = last();
            await store.setTaskCompletionForUser(reader.userId, reader.taskId);
            statements.toggle = last();
            throw internals.rolledBack;
        }).catch((err: unknown) => {

            if (err !== internals.rolledBack) {
                throw err;
            }
        });
    });

    return statements as ServiceStatements;
}


/** EXPLAIN (ANALYZE, BUFFERS) of a statement as pg received it ($n placeholders). */
export async function explain(server: string, set: DataSet, statement: Statement): Promise<string> {

    return await withDatabase(databaseUrl(server, set.name), async (db) => {

        const { sql, bindings } = positional({ name: '', text: statement.sql }, statement.bindings);
        const { rows } = await db.knex.raw(`explain (analyze, buffers) ${sql}`, bindings as Knex.RawBinding[]);
        return rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    });
}


/** Connections PostgreSQL would still accept now (max_connections less the reserved and the open ones). */
export async function freeConnections(server: string): Promise<number> {

    return await withDatabase(databaseUrl(server, 'postgres'), async (db) => {

        const { rows } = await db.knex.raw(`
            select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int -
                (select count(*) from pg_stat_activity where backend_type = 'client backend')::int as free`);
        return rows[0].free;
    });
}
