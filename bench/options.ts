// npm run bench's options: what it is asked to measure, checked before anything starts.
import { parseArgs } from 'node:util';

import { someOf, UsageError, wholeNumber } from './cli';
import type { ScenarioName } from './scenarios';
import { scenarioNames } from './scenarios';


export interface Options {
    quick: boolean;
    scenarios: ScenarioName[];
    rounds: number;
    /** Slices each scenario's measured seconds are cut into, taken on the three servers in turn. */
    slices: number;
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


export const usage = `Usage: npm run bench [-- options]

Starts todo-api (npm run build, then npm start) and its two peers on a seeded PostgreSQL database: the bare
node:http + pg server (bench/bare-server.ts), the practical limit, and a minimal hapi server (bench/hapi-floor.ts),
the framework's own floor; both send the service's SQL as named prepared statements. It drives each scenario with
wrk and prints req/s, p50, p99 and peak RSS with the ratios service/floor and floor/bare. Writes bench/RESULTS.md
(each command its own section) except with --quick. Needs wrk (and pgbench for --pgbench): see docs/performance.md.

Options:
  --quick                 1 round of 1 s per scenario, no warm-up, no start-up measurements: a smoke run that
                          every scenario answers as it should; prints the table, writes no RESULTS.md
  --scenarios LIST        some of list,get,create,toggle (default: all; with --scale big: list,get)
  --rounds N              rounds (default 3): in each, the three servers are started and each scenario is measured
                          on each in turn, the order rotating from round to round; figures are medians
  --duration S            seconds measured per scenario and server (default 8)
  --slices N              cut those seconds into N slices (N must divide them; default 4, or the most up to 4
                          that do), measured on the three servers in turn (the order rotating from slice to slice)
                          and added up: a change in what else the machine does then falls on all three alike
  --warmup S              seconds of load before each measurement, not counted (default 2); each server process
                          also gets this much of every scenario before its first measurement
  --connections N         wrk connections (default 100)
  --workers N|auto        WEB_CONCURRENCY=N for the service and its peers (node:cluster), and nothing pinned:
                          on 2 cores there is no core to spare for wrk, so the servers, PostgreSQL and wrk
                          (2 threads) share every core, the same way for every server
  --pgbench               also run pgbench with the list statement for random users, once with as many clients
                          as wrk has connections and once with as many as the server has pool connections:
                          the database's own ceiling
  --scale big             also measure on todo_bench_big (100 000 users x 100 tasks, 10 M rows, ~7 GB with its
                          indexes; seeded once in a few minutes, then reused), list with limit=10 so that pages
                          are alike on both data sets (each with a next one), and show the plans of the list
                          statements there; drop it with: dropdb -h 127.0.0.1 -U postgres todo_bench_big
  --postgres URL          the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)

Default setup: each server pinned to core 0 (taskset -c 0), wrk (1 thread) to core 1, PostgreSQL unpinned;
1 000 distinct users' tokens rotating (and one task of each user for get and toggle).`;


/** The options of argv; --help prints the usage and exits. */
export function readOptions(argv: string[]): Options {

    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            options: {
                quick: { type: 'boolean', default: false },
                scenarios: { type: 'string' },
                rounds: { type: 'string' },
                slices: { type: 'string' },
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
        throw new UsageError(`${(err as Error).message}\n\n${usage}`);
    }

    if (parsed.help) {
        process.stdout.write(`${usage}\n`);
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
    const durationSec = wholeNumber(parsed.duration, 'duration', quick ? 1 : 8, 1);
    // By default 4 slices, or the most up to 4 that divide the seconds (--duration 6: 3 of 2 s).
    const slices = wholeNumber(parsed.slices, 'slices', quick ? 1 : [4, 3, 2, 1].find((n) => durationSec % n === 0)!, 1);
    if (durationSec % slices !== 0) {
        throw new UsageError(`--slices must divide the ${durationSec} s measured: ${slices} does not`);
    }

    return {
        quick,
        scenarios: someOf(parsed.scenarios, 'scenarios', scenarioNames, scale ? ['list', 'get'] : scenarioNames),
        rounds: wholeNumber(parsed.rounds, 'rounds', quick ? 1 : 3, 1),
        warmupSec: wholeNumber(parsed.warmup, 'warmup', quick ? 0 : 2, 0),
        durationSec,
        slices,
        connections: wholeNumber(parsed.connections, 'connections', 100, 1),
        workers: parsed.workers ?? null,
        pgbench: parsed.pgbench,
        scale,
        startupRuns: quick ? 0 : 5,
        afterStartWindows: quick ? 0 : 5,
        postgres: parsed.postgres
    };
}


/** The command line that ran, as RESULTS.md names its section. */
export function commandLine(argv: string[]): string {

    return argv.length ? `npm run bench -- ${argv.join(' ')}` : 'npm run bench';
}
