// npm run bench:search: what a search (q) costs against a plain list, through the data layer, on PostgreSQL and on
// the embedded PGlite, with the data of a heavy user: 10 000 tasks of 4 000-character descriptions, among other users.
// Each kind of text (in every task, in some, in a few, in none; too short for the trigram index) is timed as the API
// asks for it (the default page, 100 tasks, newest first), median of several runs, and as a ratio to the list. On
// PGlite, which runs one statement at a time, it also times another user's stats while four searches run.
//
// The code measured is this checkout's, or another's: --code DIR takes the data layer and the migrations from DIR (a
// copy of an earlier commit, e.g. `git archive main | tar -x -C DIR` with node_modules linked in), for a before/after.
// Usage: npm run bench:search [-- --runs 7 --tasks 10000 --postgres postgres://postgres@127.0.0.1:5432 --code DIR
//        --databases postgres,pglite --label after]
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';
import { parseArgs } from 'node:util';

import Knex from 'knex';

import type { Query } from '../src/data/query';
import type { TaskListOptions, TaskStore } from '../src/data/tasks';
import { progress } from './cli';
import { describeMachine, machine, median, ms, ratio, table, writeResults } from './report';
import { buildSearchData, heavyUser, searchWords } from './search-data';


interface Code {
    createDatabase: typeof import('../src/data/connection').createDatabase;
    taskStore: typeof import('../src/data/tasks').taskStore;
    parseTaskLimits: typeof import('../src/config').parseTaskLimits;
}


interface Case {
    name: string;
    search?: string;
    /** Read the page after the first one (its cursor). */
    second?: boolean;
}


interface Measured {
    ms: number;
    tasks: number;
    statements: number;
}


const internals = {
    database: 'todo_bench_search',
    write: 'toggle a task (a write: not a list)',
    limit: 100,

    cases: [
        { name: 'list (no q)' },
        { name: 'list, page 2', second: true },
        { name: `q in every task (${searchWords.everywhere})`, search: searchWords.everywhere },
        { name: `q in every task, page 2`, search: searchWords.everywhere, second: true },
        { name: `q in 2 % of tasks (${searchWords.sparse})`, search: searchWords.sparse },
        { name: `q in 2 % of tasks, page 2`, search: searchWords.sparse, second: true },
        { name: `q in 5 tasks (${searchWords.rare})`, search: searchWords.rare },
        { name: `q in no task (${searchWords.none})`, search: searchWords.none },
        { name: `1-character q in every task (${searchWords.shortEverywhere})`, search: searchWords.shortEverywhere },
        { name: `2-character q in no task (${searchWords.shortNone})`, search: searchWords.shortNone }
    ] as Case[],

    load(dir: string): Code {

        /* eslint-disable @typescript-eslint/no-require-imports */
        return {
            createDatabase: require(Path.join(dir, 'src/data/database')).createDatabase,
            taskStore: require(Path.join(dir, 'src/data/tasks')).taskStore,
            parseTaskLimits: require(Path.join(dir, 'src/config')).parseTaskLimits
        };
    },

    async onServer(server: string, sql: string): Promise<void> {

        const admin = Knex({ client: 'pg', connection: `${server}/postgres`, pool: { min: 0, max: 1 } });
        try {
            await admin.raw(sql);
        }
        finally {
            await admin.destroy();
        }
    },

    async time(tasks: TaskStore, sent: { statements: number }, options: TaskListOptions): Promise<Measured> {

        sent.statements = 0;
        const started = performance.now();
        const page = await tasks.listTasksForUser(heavyUser, options);
        const elapsed = performance.now() - started;
        const { statements } = sent;
        return { ms: elapsed, tasks: page.tasks.length, statements };
    }
};


async function measure(code: Code, kind: 'postgres' | 'pglite', server: string, runs: number, tasksCount: number): Promise<{ results: Map<string, Measured>; interference: string[][] }> {

    if (kind === 'postgres') {
        await internals.onServer(server, `drop database if exists ${internals.database} with (force)`);
        await internals.onServer(server, `create database ${internals.database}`);
    }

    // PGlite as the server runs it (DATABASE_URL=pglite://DIR): a data directory this process owns, served on a Unix
    // socket to a pg pool, so that statements from several connections take turns as requests' do.
    const dataDir = kind === 'pglite' ? Fs.mkdtempSync(Path.join(Os.tmpdir(), 'bench-search-')) : null;
    const config = kind === 'postgres' ?
        { kind: 'postgres' as const, url: `${server}/${internals.database}`, poolMax: 8, timeoutMs: 60_000, queryTimeoutMs: 0 } :
        { kind: 'pglite' as const, dataDir, timeoutMs: 60_000, queryTimeoutMs: 0 };
    const db = await code.createDatabase(config, { role: 'todo-api' });
    const results = new Map<string, Measured>();
    const interference: string[][] = [];
    try {
        // The data goes in before the search's index is made, as in a database that had it when the index came.
        const [, pending] = await db.knex.migrate.list();
        for (const migration of pending) {
            if (/index_task_text/.test(migration.file ?? migration.name ?? migration)) {
                break;
            }

            await db.knex.migrate.up();
        }

        let started = performance.now();
        await buildSearchData(db, { tasks: tasksCount, descriptionLength: 4000, otherUsers: 100, otherTasks: 100 });
        progress(`${kind}: data made in ${ms(performance.now() - started)}`);
        started = performance.now();
        await db.knex.migrate.latest();
        await db.knex.raw('analyze tasks');
        progress(`${kind}: the rest of the migrations in ${ms(performance.now() - started)}`);

        // The store's statements, counted as they are sent.
        const sent = { statements: 0 };
        const query: Query = (statement, values) => {

            ++sent.statements;
            return db.query(statement, values);
        };

        const tasks = code.taskStore({ query, transaction: (work) => work(query) }, code.parseTaskLimits({}));
        const cursors = new Map<string, TaskListOptions['after']>();
        for (const entry of internals.cases) {
            const base: TaskListOptions = { limit: internals.limit, search: entry.search };
            if (entry.second && !cursors.has(entry.search ?? '')) {
                cursors.set(entry.search ?? '', (await tasks.listTasksForUser(heavyUser, base)).next ?? undefined);
            }

            const options = entry.second ? { ...base, after: cursors.get(entry.search ?? '') } : base;
            const times: Measured[] = [];
            // The first run is not counted: it brings the user's pages into memory.
            for (let run = 0; run <= runs; ++run) {
                const measured = await internals.time(tasks, sent, options);
                if (run > 0) {
                    times.push(measured);
                }
            }

            const result = { ms: median(times.map((time) => time.ms)), tasks: times[0].tasks, statements: times[0].statements };
            results.set(entry.name, result);
            progress(`${kind}: ${entry.name}: ${ms(result.ms)} (${result.tasks} tasks, ${result.statements} statement(s))`);
        }

        // A write: each is one statement on either code; with the index it also writes the task's trigrams.
        const { tasks: some } = await tasks.listTasksForUser(heavyUser, { limit: runs + 1 });
        const writes: number[] = [];
        for (const [n, task] of some.entries()) {
            const at = performance.now();
            await tasks.setTaskCompletionForUser(heavyUser, task.id);
            if (n > 0) {
                writes.push(performance.now() - at);
            }
        }

        results.set(internals.write, { ms: median(writes), tasks: 1, statements: 1 });
        progress(`${kind}: ${internals.write}: ${ms(median(writes))}`);

        // One statement at a time: another user's stats wait for the searches' statements queued before them.
        if (kind === 'pglite') {
            const other = 'search-user-0';
            const alone: number[] = [];
            for (let run = 0; run < runs; ++run) {
                const at = performance.now();
                await tasks.taskStatsForUser(other);
                alone.push(performance.now() - at);
            }

            interference.push(['another user\'s stats, alone', ms(median(alone)), ms(Math.max(...alone)), String(alone.length), '']);
            // Stats asked for every 20 ms while the searches run, so that some land behind their longest statements.
            for (const search of [searchWords.none, searchWords.shortNone, searchWords.everywhere]) {
                const waits: number[] = [];
                const at = performance.now();
                let running = true;
                const searches = Promise.all(Array.from({ length: 4 }, () => tasks.listTasksForUser(heavyUser, { limit: internals.limit, search })))
                    .then(() => {

                        running = false;
                        return performance.now() - at;
                    });

                do {
                    const statsAt = performance.now();
                    await tasks.taskStatsForUser(other);
                    waits.push(performance.now() - statsAt);
                    await new Promise((resolve) => setTimeout(resolve, 20));
                } while (running);

                const took = await searches;
                interference.push([`another user's stats while 4 searches for ${search} run`, ms(median(waits)), ms(Math.max(...waits)), String(waits.length), ms(took)]);
                progress(`${kind}: stats during 4 searches for ${search}: median ${ms(median(waits))}, max ${ms(Math.max(...waits))} (the 4 searches: ${ms(took)})`);
            }
        }
    }
    finally {
        await db.destroy();
        if (dataDir) {
            Fs.rmSync(dataDir, { recursive: true, force: true });
        }

        if (kind === 'postgres') {
            await internals.onServer(server, `drop database if exists ${internals.database} with (force)`);
        }
    }

    return { results, interference };
}


async function main(): Promise<void> {

    const { values } = parseArgs({
        options: {
            runs: { type: 'string', default: '7' },
            tasks: { type: 'string', default: '10000' },
            postgres: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
            code: { type: 'string', default: Path.join(__dirname, '..') },
            databases: { type: 'string', default: 'postgres,pglite' },
            label: { type: 'string', default: 'this checkout' }
        }
    });

    const code = internals.load(Path.resolve(values.code));
    const runs = Number(values.runs);
    const kinds = values.databases.split(',') as ('postgres' | 'pglite')[];
    const started = new Date();
    const measured = new Map<string, Awaited<ReturnType<typeof measure>>>();
    for (const kind of kinds) {
        measured.set(kind, await measure(code, kind, values.postgres, runs, Number(values.tasks)));
    }

    const header = ['case', ...kinds.flatMap((kind) => [`${kind}`, `${kind} ÷ list`, `${kind} statements`])];
    const rows = [...internals.cases, { name: internals.write }].map((entry) => [
        entry.name,
        ...kinds.flatMap((kind) => {

            const { results } = measured.get(kind)!;
            const result = results.get(entry.name)!;
            return [`${ms(result.ms)} (${result.tasks})`, ratio(result.ms / results.get(internals.cases[0].name)!.ms), result.statements];
        })
    ]);

    const interference = measured.get('pglite')?.interference ?? [];
    const { rows: version } = await (async () => {

        const admin = Knex({ client: 'pg', connection: `${values.postgres}/postgres`, pool: { min: 0, max: 1 } });
        try {
            return await admin.raw('show server_version');
        }
        finally {
            await admin.destroy();
        }
    })();

    const body = [
        `Run ${started.toISOString()} on ${describeMachine(machine(version[0].server_version))}. Code: ${values.label}.`,
        '',
        `Data: one user with ${Number(values.tasks).toLocaleString('en')} tasks of 4 000-character descriptions (words, so trigrams behave as in prose), ` +
        '100 other users with 100 tasks each. Each case is the data layer\'s listTasksForUser for that user, limit=100 (the API\'s default), ' +
        `newest first; the median of ${runs} runs after one not counted, with the tasks answered in parentheses, and the statements sent.`,
        '',
        table(header, rows),
        ...(interference.length ? [
            '',
            'PGlite (one statement at a time, served on a socket as the server does): another user\'s stats, alone and asked every 20 ms while four searches for the same text run (the searches\' time to the last one\'s answer).',
            '',
            table(['case', 'stats: median', 'max', 'times asked', 'the 4 searches'], interference)
        ] : [])
    ].join('\n');

    process.stdout.write(`${body}\n`);
    writeResults(`npm run bench:search${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, body);
}


main().then(() => process.exit(0), (err: unknown) => {

    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
});
