// npm run bench:memory: how much memory the service's processes hold under load for each size of V8's young
// generation (V8_SEMI_SPACE_MB), and what each size gives in req/s. Each size is measured under the mixed load (the
// four scenarios of npm run bench in turn, bench/mixed.lua) from a fresh start, the peak of all its processes' RSS
// taken from /proc; the sizes are measured one after the other within a round, in an order that rotates from round
// to round. `npm run bench:memory -- --help` for options.
import ChildProcess from 'node:child_process';
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Path from 'node:path';
import { parseArgs } from 'node:util';

import { checkLog } from './checks';
import { progress, requireCommand, runMain, UsageError, wholeNumber } from './cli';
import { databaseUrl, dataSets, postgresVersion, removeCreatedTasks, withDatabase } from './database';
import type { LoadSettings, Measurement } from './load';
import { wrkMixed } from './load';
import type { Row } from './report';
import { describeMachine, machine, median, ms, rate, ratio, table, us, writeResults } from './report';
import { checkStatus, scenarios } from './scenarios';
import type { RunningServer } from './servers';
import { npmRssBytes, scratchDir, serverCommandLines, serverCpuSeconds, serverRssBytes, startScript, startServer, watchRss } from './servers';
import { megabytes } from './tables';
import type { Target } from './targets';
import { makeTarget, placement } from './targets';


interface Options {
    quick: boolean;
    sizes: number[];
    rounds: number;
    durationSec: number;
    connections: number;
    workers: string | null;
    postgres: string;
}


/** One size's run: what wrk measured, and the memory of the service's processes (npm's apart). */
interface Sample extends Measurement {
    idleRssBytes: number;
    peakRssBytes: number;
    endRssBytes: number;
    npmRssBytes: number;
    /** The CPU time of the service's processes per response, in µs: what a request cost it, whatever share of a core it got. */
    cpuPerRequestUs: number;
    /** The peak of each fifth of the run, in order: a plateau or a climb. */
    peakByFifth: number[];
}


const internals = {
    root: Path.resolve(__dirname, '..'),
    // How long the started server is left alone before its idle RSS is read.
    settleMs: 1000,

    usage: `Usage: npm run bench:memory [-- options]

Starts todo-api (npm run build, then npm start) once for each size of V8's young generation (V8_SEMI_SPACE_MB) and
puts it under the mixed load (list, get, create and toggle in turn, each request the next user's) from its first
request, sampling the RSS of all its processes (the primary and its workers; npm apart) every 200 ms from /proc.
Prints req/s, p99, idle and peak RSS for each size; writes bench/RESULTS.md except with --quick. Needs wrk.

Options:
  --sizes LIST        V8_SEMI_SPACE_MB values, comma-separated (default 8,16,32,64)
  --duration S        seconds of load per size (default 60)
  --rounds N          rounds over the sizes (default 1), the order rotating; figures are medians
  --connections N     wrk connections (default 100)
  --workers N|auto    WEB_CONCURRENCY=N, nothing pinned (default: one process pinned to core 0, wrk to core 1)
  --quick             3 s per size, writes nothing: a smoke run
  --postgres URL      the PostgreSQL server (default postgres://postgres@127.0.0.1:5432)`,

    options(argv: string[]): Options {

        let parsed;
        try {
            parsed = parseArgs({
                args: argv,
                options: {
                    sizes: { type: 'string', default: '8,16,32,64' },
                    duration: { type: 'string' },
                    rounds: { type: 'string' },
                    connections: { type: 'string' },
                    workers: { type: 'string' },
                    quick: { type: 'boolean', default: false },
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

        const sizes = parsed.sizes.split(',').map((size) => size.trim());
        if (!sizes.length || sizes.some((size) => !/^[1-9]\d*$/.test(size) || Number(size) > 256)) {
            throw new UsageError(`--sizes takes whole numbers of MB from 1 to 256, comma-separated, not "${parsed.sizes}"`);
        }

        if (parsed.workers !== undefined && parsed.workers !== 'auto' && !/^[1-9]\d*$/.test(parsed.workers)) {
            throw new UsageError(`--workers takes a whole number or auto, not "${parsed.workers}"`);
        }

        return {
            quick: parsed.quick,
            sizes: [...new Set(sizes.map(Number))],
            rounds: wholeNumber(parsed.rounds, 'rounds', 1, 1),
            durationSec: wholeNumber(parsed.duration, 'duration', parsed.quick ? 3 : 60, 1),
            connections: wholeNumber(parsed.connections, 'connections', 100, 1),
            workers: parsed.workers ?? null,
            postgres: parsed.postgres
        };
    },

    build(): void {

        progress('npm run build');
        const build = ChildProcess.spawnSync('npm', ['run', 'build', '--silent'], { cwd: internals.root, stdio: ['ignore', 'inherit', 'inherit'] });
        if (build.status !== 0) {
            throw new Error('npm run build failed');
        }
    },

    /** Every node process of the server was started with the size asked for (the workers by their primary). */
    checkFlags(server: RunningServer, size: number): void {

        for (const [pid, argv] of serverCommandLines(server)) {
            if (!argv.includes(`--max-semi-space-size=${size}`)) {
                throw new Error(`process ${pid} of the service runs without --max-semi-space-size=${size}: ${argv.join(' ')}`);
            }
        }
    },

    /** The peak of each fifth of the samples (the first sample alone stands for an empty fifth: a run of under 1 s). */
    peakByFifth(samples: number[]): number[] {

        const bound = (i: number) => Math.floor(i * samples.length / 5);
        return [0, 1, 2, 3, 4].map((i) => Math.max(...samples.slice(bound(i), Math.max(bound(i + 1), bound(i) + 1))));
    }
};


async function measureSize(options: Options, target: Target, dir: string, secret: string, load: LoadSettings, size: number): Promise<Sample> {

    const pinned = options.workers === null;
    const server = await startServer('service', {
        databaseUrl: databaseUrl(options.postgres, target.set.name),
        secret,
        cpus: pinned ? placement.serverCpu : null,
        workers: options.workers,
        logFile: Path.join(dir, `service-${Crypto.randomUUID()}.log`),
        env: { V8_SEMI_SPACE_MB: String(size) }
    });

    let measured: Measurement;
    let rss;
    let idleRssBytes;
    let npm;
    let cpuSeconds;
    try {
        await new Promise((resolve) => setTimeout(resolve, internals.settleMs));
        internals.checkFlags(server, size);
        idleRssBytes = serverRssBytes(server);
        npm = npmRssBytes(server);
        for (const scenario of scenarios(['list', 'get', 'create', 'toggle'])) {
            await checkStatus(server, target.users, scenario, secret);
        }

        const cpuBefore = serverCpuSeconds(server);
        const watch = watchRss(server);
        measured = await wrkMixed(server.url, { readersFile: target.files.readers, creatorsFile: target.files.creators, createBody: scenarios(['create'])[0].body! }, load, options.durationSec)
            .finally(() => watch.stop());
        rss = watch.stop();
        cpuSeconds = serverCpuSeconds(server) - cpuBefore;
    }
    finally {
        await server.stop();
        await withDatabase(databaseUrl(options.postgres, target.set.name), (db) => removeCreatedTasks(db, target.users.creators));
    }

    checkLog(server, measured.requests);
    return { ...measured, idleRssBytes, peakRssBytes: rss.peakBytes, endRssBytes: rss.lastBytes, npmRssBytes: npm, cpuPerRequestUs: 1e6 * cpuSeconds / measured.requests, peakByFifth: internals.peakByFifth(rss.samples) };
}


function sizesTable(options: Options, results: Map<number, Sample[]>): string {

    const medianOf = (samples: Sample[], pick: (sample: Sample) => number) => median(samples.map(pick));
    const largest = Math.max(...options.sizes);
    const top = medianOf(results.get(largest)!, (sample) => sample.reqPerSec);
    const rows: Row[] = options.sizes.map((size) => {

        const samples = results.get(size)!;
        const reqPerSec = medianOf(samples, (sample) => sample.reqPerSec);
        return [
            `\`${size}\``, rate(reqPerSec), ratio(reqPerSec / top), us(medianOf(samples, (sample) => sample.cpuPerRequestUs)), ms(medianOf(samples, (sample) => sample.p99Ms)),
            megabytes(medianOf(samples, (sample) => sample.idleRssBytes)), `**${megabytes(medianOf(samples, (sample) => sample.peakRssBytes))}**`,
            megabytes(medianOf(samples, (sample) => sample.endRssBytes)),
            [0, 1, 2, 3, 4].map((i) => Math.round(medianOf(samples, (sample) => sample.peakByFifth[i]) / (1024 * 1024))).join(', '),
            megabytes(medianOf(samples, (sample) => sample.npmRssBytes))
        ];
    });

    return table(['V8_SEMI_SPACE_MB', 'req/s', `req/s of ${largest}`, 'CPU per request', 'p99', 'idle RSS', 'peak RSS', 'RSS at the end', 'peak RSS by fifth of the run (MB)', 'npm'], rows);
}


function roundsTable(options: Options, results: Map<number, Sample[]>): string {

    const rows: Row[] = options.sizes.map((size) => {

        const samples = results.get(size)!;
        return [
            `\`${size}\``, samples.map((sample) => rate(sample.reqPerSec)).join(', '), samples.map((sample) => us(sample.cpuPerRequestUs)).join(', '),
            samples.map((sample) => megabytes(sample.peakRssBytes)).join(', ')
        ];
    });

    return ['Each round:', '', table(['V8_SEMI_SPACE_MB', 'req/s by round', 'CPU per request by round', 'peak RSS by round'], rows)].join('\n');
}


async function main(): Promise<void> {

    const argv = process.argv.slice(2);
    const options = internals.options(argv);
    const started = new Date();

    requireCommand('wrk', 'wrk');
    requireCommand('taskset', 'util-linux');
    internals.build();

    const pinned = options.workers === null;
    const load: LoadSettings = { connections: options.connections, threads: pinned ? 1 : Math.min(2, options.connections), cpus: pinned ? placement.loadCpu : null };
    const secret = Crypto.randomBytes(32).toString('base64url');
    const dir = Fs.mkdtempSync(Path.join(scratchDir(), 'todo-bench-memory-'));

    try {
        const info = machine(await postgresVersion(options.postgres));
        const target = await makeTarget(options.postgres, dataSets.standard, secret, dir);
        const results = new Map<number, Sample[]>(options.sizes.map((size) => [size, []]));

        for (let round = 1; round <= options.rounds; ++round) {
            const shift = (round - 1) % options.sizes.length;
            for (const size of [...options.sizes.slice(shift), ...options.sizes.slice(0, shift)]) {
                const sample = await measureSize(options, target, dir, secret, load, size);
                results.get(size)!.push(sample);
                progress(`round ${round}, V8_SEMI_SPACE_MB=${size}: ${rate(sample.reqPerSec)} req/s, ${us(sample.cpuPerRequestUs)} CPU a request, p99 ${ms(sample.p99Ms)}, ` +
                    `RSS idle ${megabytes(sample.idleRssBytes)}, peak ${megabytes(sample.peakRssBytes)}, at the end ${megabytes(sample.endRssBytes)} (npm ${megabytes(sample.npmRssBytes)})`);
            }
        }

        const where = pinned ?
            `The service alone (one process) pinned to core ${placement.serverCpu}, wrk (1 thread) to core ${placement.loadCpu}, PostgreSQL unpinned.` :
            `WEB_CONCURRENCY=${options.workers}, nothing pinned.`;
        const body = [
            `Run ${started.toISOString()} on ${describeMachine(info)}.`,
            `${where} The service started afresh for each size with \`npm start\` (\`${startScript()}\`), LOG_LEVEL=info, its log to a file, ` +
                `then ${options.durationSec} s of the mixed load (list, get, create and toggle in turn, each request the next of 1 000 users'), ${options.connections} connections, ` +
                `from its first request; ${options.rounds} round(s), medians. CPU per request: the CPU time of the service's processes (from /proc) over the responses, which a busy machine changes less than req/s. RSS: the sum over the service's node processes (primary and workers), sampled every 200 ms from /proc; ` +
                '"idle" is 1 s after it answered `/health`; npm, which `npm start` leaves running above node, is counted apart. ' +
                `Data: ${target.set.name}, ${target.set.users.toLocaleString('en')} users × ${target.set.tasksPerUser} tasks.`,
            sizesTable(options, results),
            ...options.rounds > 1 ? [roundsTable(options, results)] : []
        ].join('\n\n');

        const command = argv.length ? `npm run bench:memory -- ${argv.join(' ')}` : 'npm run bench:memory';
        process.stdout.write(`\n${command}\n\n${body}\n`);
        if (!options.quick) {
            progress(`written to ${Path.relative(process.cwd(), writeResults(command, body))}`);
        }
    }
    finally {
        Fs.rmSync(dir, { recursive: true, force: true });
    }
}


runMain('bench:memory', main);
