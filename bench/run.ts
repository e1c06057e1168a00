// npm run bench: todo-api against a bare node:http + pg peer doing the same work, on a seeded PostgreSQL database,
// under wrk. Figures are only comparable within one run, so it reports ratios. `npm run bench -- --help` for options.
import ChildProcess from 'node:child_process';
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';

import { bareStatements } from './bare-statements';
import type { StatementName } from './bare-statements';
import { runMain, someOf, UsageError, wholeNumber } from './cli';
import type { BenchUsers, DataSet } from './database';
import { benchUsers, databaseUrl, dataSets, explain, freeConnections, postgresVersion, prepareDataSet, removeCreatedTasks, serviceStatements, withDatabase } from './database';
import type { LoadSettings, Measurement, PgbenchResult } from './load';
import { ensureCommand, pgbench, wrk } from './load';
import type { Row } from './report';
import { describeMachine, machine, median, medianMeasurement, medianPgbench, ms, progress, rate, ratio, table, writeResults } from './report';
import type { RunningServer, ServerKind, ServerSettings } from './servers';
import type { Scenario, ScenarioName, UserFiles } from './scenarios';
import { checkStatus, requestOnce, scenarioNames, scenarios, writeUserFiles, wrkRequest } from './scenarios';
import { scratchDir, startScript, startServer } from './servers';


interface Options {
    quick: boolean;
    scenarios: ScenarioName[];
    rounds: number;
    warmupSec: number;
    durationSec: number;
    connections: number;
    workers: string | null;
    pgbench: boolean;
    scale: boolean;
    startupRuns: number;
    /** Windows of load measured from a fresh start, one after the other (0: none). */
    afterStartWindows: number;
    postgres: string;
}


/** One data set's files and servers' figures, by round. */
interface Target {
    set: DataSet;
    users: BenchUsers;
    files: UserFiles;
    figures: Record<ServerKind, Map<ScenarioName, Measurement[]>>;
}


const internals = {
    root: Path.resolve(__dirname, '..'),
    kinds: ['bare', 'service'] as ServerKind[],
    // Connections pgbench leaves to everything else on the database server.
    spareConnections: 20,
    // The list's page size with --scale big, on both data sets: fewer than a user holds in either (20 and 100), so
    // every answer is a page with a next one (X-Next-Cursor, Link) on both, and only the data set differs.
    scaleListLimit: 10,
    // The after-start table's windows.
    afterStartWindowSec: 2,
    // Where the server and the load generator go in the default run: one core each (PostgreSQL is left unpinned).
    serverCpu: '0',
    loadCpu: '1',

    usage: `Usage: npm run bench [-- options]

Starts the bare node:http + pg peer (bench/bare-server.ts) and todo-api (npm run build, then npm start) in turn on
a seeded PostgreSQL database, drives each scenario with wrk, and prints req/s, p50 and p99 with the ratios
service/bare. Writes bench/RESULTS.md (each command its own section) except with --quick.

Options:
  --quick                 1 round of 1 s per scenario, no warm-up, no start-up measurements: a smoke run that
                          every scenario answers as it should; prints the table, writes no RESULTS.md
  --scenarios LIST        some of list,get,create,toggle (default: all; with --scale big: list,get)
  --rounds N              rounds (default 3): in each, both servers are started and each scenario is measured
                          on one then at once on the other, the first alternating; figures are medians
  --duration S            seconds measured per scenario (default 8)
  --warmup S              seconds of load before each measurement, not counted (default 2); each server process
                          also gets this much of every scenario before its first measurement
  --connections N         wrk connections (default 100)
  --workers N|auto        WEB_CONCURRENCY=N for the service and the bare peer (node:cluster), and nothing pinned:
                          on 2 cores there is no core to spare for wrk, so the servers, PostgreSQL and wrk
                          (2 threads) share every core, the same way for both servers
  --pgbench               also run pgbench with the list statement for random users, once with as many clients
                          as wrk has connections and once with as many as the server has pool connections:
                          the database's own ceiling
  --scale big             also measure on todo_bench_big (100 000 users x 100 tasks, 10 M rows, ~7 GB with its
                          indexes; seeded once in a few minutes, then reused), list with limit=10 so that pages
                          are alike on both data sets (each with a next one), and show the plans of the list
                          statements there; drop it with: dropdb -h 127.0.0.1 -U postgres todo_bench_big
  --postgres URL          the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)

Default setup: the server pinned to core 0 (taskset -c 0), wrk (1 thread) to core 1, PostgreSQL unpinned;
1 000 distinct users' tokens rotating (and one task of each user for get and toggle).`,

    options(argv: string[]): Options {

        let parsed;
        try {
            parsed = parseArgs({
                args: argv,
                options: {
                    quick: { type: 'boolean', default: false },
                    scenarios: { type: 'string' },
                    rounds: { type: 'string' },
                    duration: { type: 'string' },
                    warmup: { type: 'string' },
                    connections: { type: 'string' },
                    workers: { type: 'string' },
                    pgbench: { type: 'boolean', default: false },
                    scale: { type: 'string' },
                    postgres: { type: 'string', default: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432' },
                    help: { type: 'boolean', default: false }
                }
            }).values;
        }
        catch (err) {
            throw new UsageError(`${(err as Error).message}\n\n${internals.usage}`);
        }

        if (parsed.help) {
            process.stdout.write(`${internals.usage}\n`);
            process.exit(0);
        }

        if (parsed.scale !== undefined && parsed.scale !== 'big') {
            throw new UsageError(`--scale takes "big", not "${parsed.scale}"`);
        }

        if (parsed.workers !== undefined && parsed.workers !== 'auto' && !/^[1-9]\d*$/.test(parsed.workers)) {
            throw new UsageError(`--workers takes a whole number or auto, not "${parsed.workers}"`);
        }

        const scale = parsed.scale === 'big';
        const quick = parsed.quick;
        return {
            quick,
            scenarios: someOf(parsed.scenarios, 'scenarios', scenarioNames, scale ? ['list', 'get'] : scenarioNames),
            rounds: wholeNumber(parsed.rounds, 'rounds', quick ? 1 : 3, 1),
            warmupSec: wholeNumber(parsed.warmup, 'warmup', quick ? 0 : 2, 0),
            durationSec: wholeNumber(parsed.duration, 'duration', quick ? 1 : 8, 1),
            connections: wholeNumber(parsed.connections, 'connections', 100, 1),
            workers: parsed.workers ?? null,
            pgbench: parsed.pgbench,
            scale,
            startupRuns: quick ? 0 : 5,
            afterStartWindows: quick ? 0 : 5,
            postgres: parsed.postgres
        };
    },

    command(argv: string[]): string {

        return argv.length ? `npm run bench -- ${argv.join(' ')}` : 'npm run bench';
    },

    build(): void {

        progress('npm run build');
        const build = ChildProcess.spawnSync('npm', ['run', 'build', '--silent'], { cwd: internals.root, stdio: ['ignore', 'inherit', 'inherit'] });
        if (build.status !== 0) {
            throw new Error('npm run build failed');
        }
    },

    async target(options: Options, set: DataSet, secret: string, dir: string): Promise<Target> {

        await prepareDataSet(options.postgres, set);
        const users = await benchUsers(options.postgres, set);
        const files = writeUserFiles(set, users, secret, dir);
        const figures = { bare: new Map(), service: new Map() };
        return { set, users, files, figures };
    },

    /**
     * Both servers on the same data answer alike: the same bodies for list and get, and for create and toggle the same
     * status, fields and values (but the new id and the times). Otherwise the two are not doing the same work.
     */
    async sameAnswers(bare: RunningServer, service: RunningServer, target: Target, scenarios: Scenario[], secret: string): Promise<void> {

        const volatile = new Set(['id', 'created_at', 'updated_at', 'completed']);
        const comparable = (body: Record<string, unknown>) => Object.fromEntries(Object.entries(body).filter(([key]) => !volatile.has(key)));

        for (const scenario of scenarios) {
            for (const user of [0, 1, 999]) {
                const a = await requestOnce(bare, target.users, scenario, secret, user);
                const b = await requestOnce(service, target.users, scenario, secret, user);
                const [bodyA, bodyB] = [JSON.parse(a.body), JSON.parse(b.body)];
                const where = `${scenario.label}, user ${user}`;

                if (a.status !== scenario.status || b.status !== scenario.status) {
                    throw new Error(`${where}: bare answered ${a.status}, service ${b.status}, expected ${scenario.status}: ${b.body.slice(0, 300)}`);
                }

                if (scenario.name === 'list' || scenario.name === 'get') {
                    if (!isDeepStrictEqual(bodyA, bodyB) || a.headers['x-next-cursor'] !== b.headers['x-next-cursor']) {
                        throw new Error(`${where}: the servers' answers differ:\nbare:    ${a.body.slice(0, 400)}\nservice: ${b.body.slice(0, 400)}`);
                    }

                    continue;
                }

                const sameKeys = isDeepStrictEqual(Object.keys(bodyA).sort(), Object.keys(bodyB).sort());
                const flipped = scenario.name !== 'toggle' || bodyA.completed !== bodyB.completed;
                const located = scenario.name !== 'create' || (a.headers.location === `/api/tasks/${bodyA.id}` && b.headers.location === `/api/tasks/${bodyB.id}`);
                if (!sameKeys || !flipped || !located || !isDeepStrictEqual(comparable(bodyA), comparable(bodyB))) {
                    throw new Error(`${where}: the servers' answers differ:\nbare:    ${a.body}\nservice: ${b.body}`);
                }
            }
        }
    },

    /**
     * The service's log must have a line per response (each carries the request's req_id): a figure reached by
     * logging less is no figure.
     */
    checkLog(server: RunningServer, responses: number): void {

        const lines = Fs.readFileSync(server.logFile, 'utf8').split('\n').filter((line) => line.includes('"req_id"')).length;
        Fs.rmSync(server.logFile);
        if (lines < responses) {
            throw new Error(`the service logged ${lines} responses of the ${responses} wrk counted: LOG_LEVEL=info must write one line per request`);
        }
    }
};


/** What every step of a run shares. */
interface Run {
    options: Options;
    scenarios: Scenario[];
    /** The default setup: server and load generator on a core each; else (--workers) nothing pinned. */
    pinned: boolean;
    secret: string;
    dir: string;
    load: LoadSettings;
}


function serverSettings(run: Run, set: DataSet, kind: ServerKind, pinned: boolean): ServerSettings {

    return {
        databaseUrl: databaseUrl(run.options.postgres, set.name),
        secret: run.secret,
        cpus: pinned ? internals.serverCpu : null,
        workers: run.options.workers,
        logFile: Path.join(run.dir, `${kind}-${Crypto.randomUUID()}.log`)
    };
}


function removeCreated(run: Run, target: Target): Promise<number> {

    return withDatabase(databaseUrl(run.options.postgres, target.set.name), (db) => removeCreatedTasks(db, target.users.creators));
}


/**
 * The bare peer sends the very statements the service's data layer sends (whitespace aside): otherwise the two do
 * different work, and a change to the service's SQL would go unmeasured.
 */
async function checkSameStatements(run: Run, target: Target): Promise<void> {

    const normal = (sql: string) => sql.replace(/\s+/g, ' ').trim();
    const sent = await serviceStatements(run.options.postgres, target.set, target.users, target.set.tasksPerUser / 2);
    for (const name of Object.keys(bareStatements) as StatementName[]) {
        if (normal(sent[name].sql) !== normal(bareStatements[name])) {
            throw new Error(`the bare peer's ${name} statement is not the service's: update bench/bare-statements.ts\n` +
                `service: ${normal(sent[name].sql)}\nbare:    ${normal(bareStatements[name])}`);
        }
    }
}


/** The two servers side by side, unpinned, before anything is measured. */
async function checkSameAnswers(run: Run, target: Target): Promise<void> {

    const bare = await startServer('bare', serverSettings(run, target.set, 'bare', false));
    try {
        const service = await startServer('service', serverSettings(run, target.set, 'service', false));
        try {
            await internals.sameAnswers(bare, service, target, run.scenarios, run.secret);
        }
        finally {
            await service.stop();
        }
    }
    finally {
        await bare.stop();
        await removeCreated(run, target);
    }
}


/**
 * One round: both servers started (each on its own port, the idle one waiting), each scenario's exact status
 * checked, a warm-up pass over every scenario, so that the scenario measured first does not also pay for the
 * process's start (its code compiled and optimised, its heap grown: the after-start table shows that), then each
 * scenario on one server and at once on the other, each with its own warm-up. The two measurements of a scenario
 * are seconds apart, not a whole pass over the scenarios, so that a change in what else the machine is doing falls
 * on both; which server goes first alternates between rounds.
 */
async function measureRound(run: Run, target: Target, round: number): Promise<void> {

    const { options } = run;
    const kinds = round % 2 ? internals.kinds : [...internals.kinds].reverse();
    const servers = new Map<ServerKind, RunningServer>();
    const responses = new Map<ServerKind, number>(kinds.map((kind) => [kind, 0]));
    const load = async (kind: ServerKind, scenario: Scenario, seconds: number) => {

        const measured = await wrk(servers.get(kind)!.url, wrkRequest(target.files, scenario), run.load, seconds);
        responses.set(kind, responses.get(kind)! + measured.requests);
        if (scenario.name === 'create') {
            await removeCreated(run, target);
        }

        return measured;
    };

    try {
        for (const kind of kinds) {
            servers.set(kind, await startServer(kind, serverSettings(run, target.set, kind, run.pinned)));
        }

        for (const scenario of run.scenarios) {
            for (const kind of kinds) {
                await checkStatus(servers.get(kind)!, target.users, scenario, run.secret);
                responses.set(kind, responses.get(kind)! + 1);
            }
        }

        if (options.warmupSec > 0) {
            for (const scenario of run.scenarios) {
                for (const kind of kinds) {
                    await load(kind, scenario, options.warmupSec);
                }
            }
        }

        for (const scenario of run.scenarios) {
            for (const kind of kinds) {
                if (options.warmupSec > 0) {
                    await load(kind, scenario, options.warmupSec);
                }

                const measured = await load(kind, scenario, options.durationSec);
                target.figures[kind].set(scenario.name, [...target.figures[kind].get(scenario.name) ?? [], measured]);
                progress(`round ${round}, ${target.set.name}, ${kind.padEnd(7)} ${scenario.name.padEnd(6)} ${rate(measured.reqPerSec).padStart(6)} req/s  p50 ${ms(measured.p50Ms)}  p99 ${ms(measured.p99Ms)}`);
            }
        }
    }
    finally {
        for (const server of servers.values()) {
            await server.stop();
        }
    }

    for (const [kind, server] of servers) {
        if (kind === 'service') {
            internals.checkLog(server, responses.get(kind)!);
        }
        else {
            Fs.rmSync(server.logFile, { force: true });
        }
    }
}


/**
 * The list statement (the bare peer's, which is the service's) as a pgbench script: the user a bound parameter
 * ('load-' || $1 folds into a constant when planned), the page size the scenario's.
 */
function pgbenchScript(run: Run, set: DataSet): string {

    const limit = run.options.scale ? internals.scaleListLimit : 100;
    const stride = Math.floor(set.users / 1000);
    const sql = bareStatements.list
        .replace('$1', '\'load-\' || cast(:n as text)')
        .replace('$2', String(limit + 1))
        // pgbench reads every ":name" as a variable, in string literals too: there the colons are written \003A.
        .replace(/'(?:[^']|'')*'/g, (literal) => (literal.includes(':') ? `U&${literal.replace(/\\/g, '\\\\').replace(/:/g, '\\003A')}` : literal));

    const file = Path.join(run.dir, `${set.name}-list.sql`);
    Fs.writeFileSync(file, `\\set n random(0, 999) * ${stride} + 1\n${sql};\n`);
    return file;
}


/**
 * pgbench with the list statement, once with as many clients as wrk has connections and once with as many as the
 * servers have pool connections; each result is added to `results` under the clients asked for.
 */
async function measurePgbench(run: Run, target: Target, script: string, round: number, results: Map<number, PgbenchResult[]>): Promise<void> {

    const { options } = run;
    const workers = options.workers === null ? 1 : options.workers === 'auto' ? Os.availableParallelism() : Number(options.workers);
    const url = databaseUrl(options.postgres, target.set.name);

    for (const wanted of new Set([options.connections, 10 * workers])) {
        // PostgreSQL's max_connections may not allow as many clients as wrk has connections.
        const clients = Math.min(wanted, await freeConnections(options.postgres) - internals.spareConnections);
        if (clients < wanted) {
            progress(`pgbench: ${clients} clients, not ${wanted}: max_connections leaves no more (and ${internals.spareConnections} to others)`);
        }

        if (options.warmupSec > 0) {
            await pgbench(url, script, clients, run.load, options.warmupSec);
        }

        const result = await pgbench(url, script, clients, run.load, options.durationSec);
        progress(`round ${round}, pgbench list, ${clients} clients: ${rate(result.tps)} statements/s, average ${ms(result.latencyMs)}`);
        results.set(wanted, [...results.get(wanted) ?? [], result]);
    }
}


async function measureStartup(run: Run, target: Target, direct: boolean): Promise<number[]> {

    const times: number[] = [];
    for (let i = 0; i < run.options.startupRuns; ++i) {
        const server = await startServer('service', serverSettings(run, target.set, 'service', run.pinned), direct);
        times.push(server.readyMs);
        await server.stop();
        Fs.rmSync(server.logFile, { force: true });
    }

    return times;
}


/**
 * Each server from a fresh start, under the first scenario's load from its first request, in consecutive windows:
 * what the measured figures leave out (every server is measured warm), the cost of a start under load.
 */
async function measureAfterStart(run: Run, target: Target): Promise<Record<ServerKind, Measurement[]>> {

    const scenario = run.scenarios[0];
    const windows = { bare: [] as Measurement[], service: [] as Measurement[] };
    for (const kind of internals.kinds) {
        const server = await startServer(kind, serverSettings(run, target.set, kind, run.pinned));
        try {
            await checkStatus(server, target.users, scenario, run.secret);
            for (let i = 0; i < run.options.afterStartWindows; ++i) {
                windows[kind].push(await wrk(server.url, wrkRequest(target.files, scenario), run.load, internals.afterStartWindowSec));
            }
        }
        finally {
            await server.stop();
            Fs.rmSync(server.logFile, { force: true });
            if (scenario.name === 'create') {
                await removeCreated(run, target);
            }
        }
    }

    return windows;
}


function mainTable(target: Target, scenarios: Scenario[]): string {

    const rows: Row[] = [];
    for (const scenario of scenarios) {
        const bare = medianMeasurement(target.figures.bare.get(scenario.name)!);
        const service = medianMeasurement(target.figures.service.get(scenario.name)!);
        rows.push([
            scenario.label, rate(bare.reqPerSec), rate(service.reqPerSec), ratio(service.reqPerSec / bare.reqPerSec),
            ms(bare.p50Ms), ms(service.p50Ms), ms(bare.p99Ms), ms(service.p99Ms), ratio(service.p99Ms / bare.p99Ms)
        ]);
    }

    return table(['scenario', 'bare req/s', 'service req/s', 'req/s ratio', 'bare p50', 'service p50', 'bare p99', 'service p99', 'p99 ratio'], rows);
}


function roundsTable(target: Target, scenarios: Scenario[]): string {

    const rows: Row[] = [];
    for (const scenario of scenarios) {
        for (const kind of internals.kinds) {
            const rounds = target.figures[kind].get(scenario.name)!;
            rows.push([scenario.name, kind, rounds.map((round) => rate(round.reqPerSec)).join(', '), rounds.map((round) => ms(round.p99Ms)).join(', ')]);
        }

        // The two servers' figures of the same round were taken seconds apart.
        const [bare, service] = internals.kinds.map((kind) => target.figures[kind].get(scenario.name)!);
        rows.push([scenario.name, 'service/bare', service.map((round, i) => ratio(round.reqPerSec / bare[i].reqPerSec)).join(', '),
            service.map((round, i) => ratio(round.p99Ms / bare[i].p99Ms)).join(', ')]);
    }

    return table(['scenario', 'server', 'req/s by round', 'p99 by round'], rows);
}


function pgbenchTable(run: Run, target: Target, results: Map<number, PgbenchResult[]>): string {

    const rows: Row[] = [...results.entries()].map(([wanted, rounds]) => {

        const result = medianPgbench(rounds);
        const clients = [...new Set(rounds.map((round) => round.clients))];
        const capped = clients.length > 1 || clients[0] !== wanted ? ` (${wanted} asked; max_connections allowed no more)` : '';
        return [`${clients.join('/')}${capped}`, rate(result.tps), ms(result.latencyMs)];
    });

    const list = run.options.scenarios.includes('list') ?
        ` The list scenario in the same rounds: bare ${rate(medianMeasurement(target.figures.bare.get('list')!).reqPerSec)} req/s, ` +
            `service ${rate(medianMeasurement(target.figures.service.get('list')!).reqPerSec)} req/s.` :
        '';

    return [
        `pgbench (\`--protocol=extended\`, as pg sends it), the list statement for random users of the 1 000, on ${target.set.name}: ` +
            `the database alone, with the load generator placed as wrk is.${list}`,
        '',
        table(['clients', 'statements/s', 'latency average'], rows)
    ].join('\n');
}


function scaleTable(small: Target, big: Target, scenarios: Scenario[]): string {

    const rows: Row[] = [];
    for (const scenario of scenarios) {
        for (const kind of internals.kinds) {
            const a = medianMeasurement(small.figures[kind].get(scenario.name)!);
            const b = medianMeasurement(big.figures[kind].get(scenario.name)!);
            rows.push([
                scenario.label, kind, rate(a.reqPerSec), rate(b.reqPerSec), ms(a.p50Ms), ms(b.p50Ms), ratio(b.p50Ms / a.p50Ms),
                ms(a.p99Ms), ms(b.p99Ms), ratio(b.p99Ms / a.p99Ms)
            ]);
        }
    }

    const [s, l] = [small.set, big.set].map((set) => `${(set.users * set.tasksPerUser).toLocaleString('en')} rows`);
    return [
        `Scale: ${big.set.name}, ${big.set.users.toLocaleString('en')} users × ${big.set.tasksPerUser} tasks, against ${small.set.name} in the same rounds.`,
        '',
        table(['scenario', 'server', `req/s ${s}`, `req/s ${l}`, `p50 ${s}`, `p50 ${l}`, 'p50 ratio', `p99 ${s}`, `p99 ${l}`, 'p99 ratio'], rows)
    ].join('\n');
}


function afterStartTable(run: Run, windows: Record<ServerKind, Measurement[]>): string {

    const seconds = internals.afterStartWindowSec;
    const rows: Row[] = windows.bare.map((bare, i) => {

        const service = windows.service[i];
        return [`${i * seconds}-${(i + 1) * seconds} s`, rate(bare.reqPerSec), rate(service.reqPerSec), ratio(service.reqPerSec / bare.reqPerSec), ms(bare.p99Ms), ms(service.p99Ms), ratio(service.p99Ms / bare.p99Ms)];
    });

    return [
        `After a start: each server started afresh and put under the ${run.scenarios[0].name} scenario's load from its first request, in windows of ${seconds} s ` +
            '(the figures above are of warm servers):',
        '',
        table(['since the first request', 'bare req/s', 'service req/s', 'req/s ratio', 'bare p99', 'service p99', 'p99 ratio'], rows)
    ].join('\n');
}


function startupTable(run: Run, startup: { npm: number[]; direct: number[] }): string {

    return [
        `Start-up, from the command to the first \`/health\` 200 on PostgreSQL${run.pinned ? `, pinned to core ${internals.serverCpu}` : ''} (median of ${run.options.startupRuns}):`,
        '',
        table(['command', 'median', 'runs'], [
            ['`npm start`', ms(median(startup.npm)), startup.npm.map(ms).join(', ')],
            [`\`sh -c '${startScript()}'\` (without npm)`, ms(median(startup.direct)), startup.direct.map(ms).join(', ')]
        ])
    ].join('\n');
}


function setupText(run: Run, target: Target): string {

    const { options } = run;
    const placement = run.pinned ?
        `Server pinned to core ${internals.serverCpu} (\`taskset -c ${internals.serverCpu}\`), wrk (1 thread) to core ${internals.loadCpu}, PostgreSQL unpinned.` :
        `All cores: WEB_CONCURRENCY=${options.workers} for the service and the bare peer (node:cluster), nothing pinned: the servers, PostgreSQL and wrk (2 threads) share every core.`;

    const warmup = options.warmupSec > 0 ?
        `each server process first warmed by ${options.warmupSec} s of every scenario, then ${options.warmupSec} s warm-up and ` :
        'no warm-up, ';
    return `${placement} ${options.connections} connections, 1 000 users' tokens rotating; ${warmup}${options.durationSec} s measured per scenario and server; ` +
        `${options.rounds} round(s), each with both servers up and each scenario measured on one then at once on the other (which goes first alternates); medians. The service: \`npm start\` (\`${startScript()}\`), LOG_LEVEL=info, its log to a file${run.dir.startsWith('/dev/shm/') ? ' in memory (tmpfs)' : ''}. ` +
        `Data: ${target.set.name}, ${target.set.users.toLocaleString('en')} users × ${target.set.tasksPerUser} tasks.`;
}


async function main(): Promise<void> {

    const argv = process.argv.slice(2);
    const options = internals.options(argv);
    const started = new Date();

    ensureCommand('wrk', 'wrk');
    if (options.pgbench) {
        ensureCommand('pgbench', 'postgresql');
    }

    internals.build();

    const pinned = options.workers === null;
    const run: Run = {
        options,
        scenarios: scenarios(options.scenarios, options.scale ? internals.scaleListLimit : null),
        pinned,
        secret: Crypto.randomBytes(32).toString('base64url'),
        dir: Fs.mkdtempSync(Path.join(scratchDir(), 'todo-bench-')),
        load: { connections: options.connections, threads: pinned ? 1 : Math.min(2, options.connections), cpus: pinned ? internals.loadCpu : null }
    };

    try {
        const info = machine(await postgresVersion(options.postgres));
        const targets = [await internals.target(options, dataSets.standard, run.secret, run.dir)];
        if (options.scale) {
            targets.push(await internals.target(options, dataSets.big, run.secret, run.dir));
        }

        await checkSameStatements(run, targets[0]);
        for (const target of targets) {
            await checkSameAnswers(run, target);
        }

        progress(`the servers send the same statements and answer alike; ${options.rounds} round(s) of ${run.scenarios.map((scenario) => scenario.name).join(', ')}`);

        const [standard] = targets;
        const script = pgbenchScript(run, standard.set);
        const pgbenchResults = new Map<number, PgbenchResult[]>();
        for (let round = 1; round <= options.rounds; ++round) {
            for (const target of targets) {
                await measureRound(run, target, round);
            }

            if (options.pgbench) {
                await measurePgbench(run, standard, script, round, pgbenchResults);
            }
        }

        const sections = [
            `Run ${started.toISOString()} on ${describeMachine(info)}.`,
            setupText(run, standard),
            mainTable(standard, run.scenarios),
            'Each round:',
            roundsTable(standard, run.scenarios)
        ];

        if (options.pgbench) {
            sections.push(pgbenchTable(run, standard, pgbenchResults));
        }

        if (options.scale) {
            const big = targets[1];
            const sent = await serviceStatements(options.postgres, big.set, big.users, internals.scaleListLimit);
            sections.push(
                scaleTable(standard, big, run.scenarios),
                `The service's list statements (limit ${internals.scaleListLimit}) on ${big.set.name}, as its data layer sends them, first page and the page after:`,
                ['```', await explain(options.postgres, big.set, sent.list), '```'].join('\n'),
                ['```', await explain(options.postgres, big.set, sent.listAfter), '```'].join('\n'));
        }

        if (options.afterStartWindows > 0) {
            sections.push(afterStartTable(run, await measureAfterStart(run, standard)));
        }

        if (options.startupRuns > 0) {
            sections.push(startupTable(run, { npm: await measureStartup(run, standard, false), direct: await measureStartup(run, standard, true) }));
        }

        const body = sections.join('\n\n');
        const command = internals.command(argv);
        process.stdout.write(`\n${command}\n\n${body}\n`);
        if (!options.quick) {
            progress(`written to ${Path.relative(process.cwd(), writeResults(command, body))}`);
        }
    }
    finally {
        Fs.rmSync(run.dir, { recursive: true, force: true });
    }
}


runMain('bench', main);
