// npm run bench: todo-api against its two peers doing the same work (the bare node:http + pg server, the practical
// limit, and a minimal hapi server, the framework's own floor), on a seeded PostgreSQL database, under wrk. Figures
// are only comparable within one run, so it reports ratios. `npm run bench -- --help` for options.
import ChildProcess from 'node:child_process';
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import { bareStatements } from './bare-statements';
import { checkLog, checkSameAnswers, checkSameStatements } from './checks';
import { progress, requireCommand, runMain } from './cli';
import type { DataSet } from './database';
import { databaseUrl, dataSets, explain, freeConnections, postgresVersion, serviceStatements } from './database';
import type { PgbenchResult } from './load';
import { combined, pgbench, wrk } from './load';
import type { Options } from './options';
import { commandLine, readOptions } from './options';
import { describeMachine, machine, ms, rate, writeResults } from './report';
import type { Scenario } from './scenarios';
import { checkStatus, scenarios, wrkRequest } from './scenarios';
import type { RunningServer, ServerKind } from './servers';
import { scratchDir, startServer, watchRss } from './servers';
import { afterStartTable, latencyTable, mainTable, megabytes, pgbenchTable, roundsTable, scaleTable, setupText, startupTable } from './tables';
import type { Figure, Run, Target } from './targets';
import { makeTarget, placement, removeCreated, serverKinds, serverSettings } from './targets';


const internals = {
    root: Path.resolve(__dirname, '..'),
    // Connections pgbench leaves to everything else on the database server.
    spareConnections: 20,
    // The list's page size with --scale big, on both data sets: fewer than a user holds in either (20 and 100), so
    // every answer is a page with a next one (X-Next-Cursor, Link) on both, and only the data set differs.
    scaleListLimit: 10,
    // The after-start table's windows.
    afterStartWindowSec: 2,

    build(): void {

        progress('npm run build');
        const build = ChildProcess.spawnSync('npm', ['run', 'build', '--silent'], { cwd: internals.root, stdio: ['ignore', 'inherit', 'inherit'] });
        if (build.status !== 0) {
            throw new Error('npm run build failed');
        }
    },

    /** The round's order of the servers: rotated by one each round, so that none is always measured first. */
    order(round: number): ServerKind[] {

        return internals.rotated(serverKinds, round - 1);
    },

    rotated(kinds: ServerKind[], by: number): ServerKind[] {

        const shift = by % kinds.length;
        return [...kinds.slice(shift), ...kinds.slice(0, shift)];
    }
};


/** wrk against a server for `seconds`, with the peak of its processes' RSS meanwhile. */
async function measure(run: Run, target: Target, server: RunningServer, scenario: Scenario, seconds: number): Promise<Figure> {

    const rss = watchRss(server);
    const measured = await wrk(server.url, wrkRequest(target.files, scenario), run.load, seconds).finally(() => rss.stop());
    return { ...measured, peakRssBytes: rss.stop().peakBytes };
}


/**
 * One round: the three servers started (each on its own port, the idle ones waiting), each scenario's exact status
 * checked, a warm-up pass over every scenario, so that the scenario measured first does not also pay for the
 * process's start (its code compiled and optimised, its heap grown: the after-start table shows that), then each
 * scenario: a warm-up on each server, and its measured seconds cut into slices taken on the three servers in turn
 * (2 s each by default), so that a change in what else the machine is doing, which on a shared machine comes and goes
 * within seconds, falls on all three alike. Each server's slices are added up: requests over seconds, and the
 * percentiles of all their latencies together. The order of the servers rotates from slice to slice and round to round.
 */
async function measureRound(run: Run, target: Target, round: number): Promise<void> {

    const { options } = run;
    const kinds = internals.order(round);
    const servers = new Map<ServerKind, RunningServer>();
    const responses = new Map<ServerKind, number>(kinds.map((kind) => [kind, 0]));
    const load = async (kind: ServerKind, scenario: Scenario, seconds: number) => {

        const measured = await measure(run, target, servers.get(kind)!, scenario, seconds);
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
            if (options.warmupSec > 0) {
                for (const kind of kinds) {
                    await load(kind, scenario, options.warmupSec);
                }
            }

            const slices = new Map<ServerKind, Figure[]>(kinds.map((kind) => [kind, []]));
            for (let slice = 0; slice < options.slices; ++slice) {
                for (const kind of internals.rotated(kinds, slice)) {
                    slices.get(kind)!.push(await load(kind, scenario, options.durationSec / options.slices));
                }
            }

            for (const kind of kinds) {
                const figures = slices.get(kind)!;
                const measured: Figure = { ...combined(figures), peakRssBytes: Math.max(...figures.map((figure) => figure.peakRssBytes)) };
                target.figures[kind].set(scenario.name, [...target.figures[kind].get(scenario.name) ?? [], measured]);
                progress(`round ${round}, ${target.set.name}, ${kind.padEnd(7)} ${scenario.name.padEnd(6)} ${rate(measured.reqPerSec).padStart(6)} req/s  ` +
                    `p50 ${ms(measured.p50Ms)}  p99 ${ms(measured.p99Ms)}  peak RSS ${megabytes(measured.peakRssBytes)}`);
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
            checkLog(server, responses.get(kind)!);
        }
        else {
            Fs.rmSync(server.logFile, { force: true });
        }
    }
}


/**
 * The list statement (the peers', which is the service's) as a pgbench script: the user a bound parameter
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
async function measureAfterStart(run: Run, target: Target): Promise<Record<ServerKind, Figure[]>> {

    const scenario = run.scenarios[0];
    const windows = { bare: [] as Figure[], floor: [] as Figure[], service: [] as Figure[] };
    for (const kind of serverKinds) {
        const server = await startServer(kind, serverSettings(run, target.set, kind, run.pinned));
        try {
            await checkStatus(server, target.users, scenario, run.secret);
            for (let i = 0; i < run.options.afterStartWindows; ++i) {
                windows[kind].push(await measure(run, target, server, scenario, internals.afterStartWindowSec));
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


async function report(run: Run, targets: Target[], pgbenchResults: Map<number, PgbenchResult[]>, started: Date, info: ReturnType<typeof machine>): Promise<string> {

    const { options } = run;
    const [standard] = targets;
    const sections = [
        `Run ${started.toISOString()} on ${describeMachine(info)}.`,
        setupText(run, standard),
        mainTable(standard, run.scenarios),
        latencyTable(standard, run.scenarios),
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
        sections.push(afterStartTable(run, await measureAfterStart(run, standard), internals.afterStartWindowSec));
    }

    if (options.startupRuns > 0) {
        sections.push(startupTable(run, { npm: await measureStartup(run, standard, false), direct: await measureStartup(run, standard, true) }));
    }

    return sections.join('\n\n');
}


async function main(): Promise<void> {

    const argv = process.argv.slice(2);
    const options: Options = readOptions(argv);
    const started = new Date();

    requireCommand('wrk', 'wrk');
    requireCommand('taskset', 'util-linux');
    if (options.pgbench) {
        requireCommand('pgbench', 'postgresql-client');
    }

    internals.build();

    const pinned = options.workers === null;
    const run: Run = {
        options,
        scenarios: scenarios(options.scenarios, options.scale ? internals.scaleListLimit : null),
        pinned,
        secret: Crypto.randomBytes(32).toString('base64url'),
        dir: Fs.mkdtempSync(Path.join(scratchDir(), 'todo-bench-')),
        load: { connections: options.connections, threads: pinned ? 1 : Math.min(2, options.connections), cpus: pinned ? placement.loadCpu : null }
    };

    try {
        const info = machine(await postgresVersion(options.postgres));
        const targets = [await makeTarget(options.postgres, dataSets.standard, run.secret, run.dir)];
        if (options.scale) {
            targets.push(await makeTarget(options.postgres, dataSets.big, run.secret, run.dir));
        }

        await checkSameStatements(run, targets[0]);
        for (const target of targets) {
            await checkSameAnswers(run, target);
        }

        progress(`the servers send the same statements and answer alike; ${options.rounds} round(s) of ${run.scenarios.map((scenario) => scenario.name).join(', ')}`);

        const script = pgbenchScript(run, targets[0].set);
        const pgbenchResults = new Map<number, PgbenchResult[]>();
        for (let round = 1; round <= options.rounds; ++round) {
            for (const target of targets) {
                await measureRound(run, target, round);
            }

            if (options.pgbench) {
                await measurePgbench(run, targets[0], script, round, pgbenchResults);
            }
        }

        const body = await report(run, targets, pgbenchResults, started, info);
        const command = commandLine(argv);
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
