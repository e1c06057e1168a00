// npm run bench:rate-limits: what counting every request against the rate limits costs the service, per request.
// The service is started with its budgets off (RATE_LIMIT_PER_MIN=0, AUTH_FAILURES_PER_MIN=0) and on
// (RATE_LIMIT_PER_MIN=1000000: every request counted, none refused; AUTH_FAILURES_PER_MIN as by default) for each
// store the budgets can live in, and each scenario is measured on one then at once on the other, round after round.
// `npm run bench:rate-limits -- --help` for options.
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';
import { parseArgs } from 'node:util';

import Redis from 'ioredis';

import { progress, requireCommand, runMain, someOf, UsageError, wholeNumber } from './cli';
import type { BenchUsers, DataSet } from './database';
import { benchUsers, databaseUrl, dataSets, postgresVersion, prepareDataSet, removeCreatedTasks, withDatabase } from './database';
import type { LoadSettings, Measurement } from './load';
import { wrk } from './load';
import type { Row } from './report';
import { describeMachine, machine, median, ms, percent, rate, ratio, table, us, writeResults } from './report';
import type { Scenario, ScenarioName, UserFiles } from './scenarios';
import { checkStatus, requestOnce, scenarioNames, scenarios, writeUserFiles, wrkRequest } from './scenarios';
import type { RunningServer, ServerSettings } from './servers';
import { processCpuSeconds, request, scratchDir, serverCpuSeconds, startScript, startServer } from './servers';


type StoreName = 'memory' | 'cluster' | 'redis' | 'cluster-redis';


type BudgetsState = 'off' | 'on';


/** Where the budgets are kept, and the server processes that keep them. */
interface Store {
    name: StoreName;
    label: string;
    /** WEB_CONCURRENCY, or null for one process. */
    workers: string | null;
    /** One process pinned to a core and wrk to the other; else nothing is pinned. */
    pinned: boolean;
    redis: boolean;
}


interface Options {
    quick: boolean;
    stores: StoreName[];
    scenarios: ScenarioName[];
    rounds: number;
    warmupSec: number;
    durationSec: number;
    connections: number;
    redisUrl: string;
    postgres: string;
}


/** One measured load: what wrk saw, and the CPU time the service (and Redis) spent meanwhile. */
interface Sample {
    measurement: Measurement;
    /** The service's CPU time per response, in µs. */
    cpuUs: number;
    /** The cores the service kept busy on average. */
    cores: number;
    /** Redis's CPU time per response in µs, when the store is Redis and this machine sees its process. */
    redisCpuUs: number | null;
}


interface Run {
    options: Options;
    stores: Store[];
    scenarios: Scenario[];
    secret: string;
    dir: string;
    set: DataSet;
    users: BenchUsers;
    files: UserFiles;
    redis: { client: Redis; pid: number | null } | null;
    /** By store, scenario and budgets state: one per round. */
    samples: Map<string, Sample[]>;
    /** The 1-minute load average after each measurement. */
    loads: number[];
    /** The failed-authentication budget the "on" servers announced (AUTH_FAILURES_PER_MIN's default). */
    authFailuresQuota: number | null;
}


const internals = {
    stores: [
        { name: 'memory', label: 'memory, 1 process', workers: null, pinned: true, redis: false },
        { name: 'cluster', label: 'primary over IPC, WEB_CONCURRENCY=2', workers: '2', pinned: false, redis: false },
        { name: 'redis', label: 'Redis, 1 process', workers: null, pinned: true, redis: true },
        { name: 'cluster-redis', label: 'Redis, WEB_CONCURRENCY=2', workers: '2', pinned: false, redis: true }
    ] as Store[],
    defaultStores: ['memory', 'cluster', 'redis'] as StoreName[],
    defaultScenarios: ['list', 'get', 'create'] as ScenarioName[],
    quickScenarios: ['list', 'get'] as ScenarioName[],
    states: ['off', 'on'] as BudgetsState[],
    // As many requests a minute as the configuration allows: every request is counted and none is refused.
    onQuota: 1_000_000,
    environment: {
        off: { RATE_LIMIT_PER_MIN: '0', AUTH_FAILURES_PER_MIN: '0' },
        on: { RATE_LIMIT_PER_MIN: '1000000' }
    } as Record<BudgetsState, Record<string, string>>,
    // Requests of one user, each on a connection of its own, that must find the count one lower each time.
    countedRequests: 4,
    serverCpu: '0',
    loadCpu: '1',

    usage: `Usage: npm run bench:rate-limits [-- options]

Starts todo-api (npm start, on the seeded todo_bench database) with its rate limit budgets off
(RATE_LIMIT_PER_MIN=0, AUTH_FAILURES_PER_MIN=0) and on (RATE_LIMIT_PER_MIN=1000000: every request counted, none
refused; AUTH_FAILURES_PER_MIN as by default), for each store the budgets can be kept in, drives each scenario with
wrk, and prints req/s, p50 and p99 off and on, the on/off ratio of req/s and the per-request cost of the budgets: the
difference of 1/req/s, and of the service's CPU time per response (from /proc). Writes its own section of
bench/RESULTS.md except with --quick. Run npm run build first (npm run bench:rate-limits does).

Stores:
  memory         one process, pinned to core 0 (taskset -c 0), wrk (1 thread) to core 1
  cluster        WEB_CONCURRENCY=2, the primary keeping the workers' budgets (asked over IPC); nothing pinned,
                 wrk with 2 threads
  redis          one process pinned as memory is, the budgets in Redis (RATE_LIMIT_REDIS_URL)
  cluster-redis  WEB_CONCURRENCY=2 as cluster is, the budgets in Redis

Options:
  --quick              1 round of 1 s per scenario, no warm-up, list and get unless --scenarios says otherwise: a
                       smoke run that every check passes; prints the tables, writes no RESULTS.md
  --stores LIST        some of memory,cluster,redis,cluster-redis (default: memory,cluster,redis)
  --scenarios LIST     some of list,get,create,toggle (default: list,get,create)
  --rounds N           rounds (default 3): in each, for each store, the service is started with the budgets off
                       and on, and each scenario is measured on one then at once on the other, off first in odd
                       rounds and on first in even ones; figures are medians over rounds
  --duration S         seconds measured per scenario, store and budgets state (default 8)
  --warmup S           seconds of load before each measurement, not counted (default 2); each server process also
                       gets this much of every scenario before its first measurement
  --connections N      wrk connections (default 100)
  --redis URL          the Redis of the redis stores (default: BENCH_REDIS_URL, else redis://127.0.0.1:6379); it must
                       answer PING before anything is measured
  --postgres URL       the PostgreSQL server (default: BENCH_POSTGRES_URL, else postgres://postgres@127.0.0.1:5432)

Before measuring, every server is checked: on, an answer carries RateLimit-Policy (the user's, q=1000000) and a
failed authentication the address's, and successive requests of one user count one each whichever process answers
(with Redis, the user's key is in Redis); off, no answer carries RateLimit-Policy. Any answer of 4xx or 5xx under
load fails the run, a 429 in the on servers' logs with its own message.`,

    options(argv: string[]): Options {

        let parsed;
        try {
            parsed = parseArgs({
                args: argv,
                options: {
                    quick: { type: 'boolean', default: false },
                    stores: { type: 'string' },
                    scenarios: { type: 'string' },
                    rounds: { type: 'string' },
                    duration: { type: 'string' },
                    warmup: { type: 'string' },
                    connections: { type: 'string' },
                    redis: { type: 'string', default: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
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

        if (!/^rediss?:\/\//.test(parsed.redis)) {
            throw new UsageError(`--redis takes a redis:// or rediss:// URL, not "${parsed.redis}"`);
        }

        const quick = parsed.quick;
        return {
            quick,
            stores: someOf(parsed.stores, 'stores', internals.stores.map((store) => store.name), internals.defaultStores),
            scenarios: someOf(parsed.scenarios, 'scenarios', scenarioNames, quick ? internals.quickScenarios : internals.defaultScenarios),
            rounds: wholeNumber(parsed.rounds, 'rounds', quick ? 1 : 3, 1),
            warmupSec: wholeNumber(parsed.warmup, 'warmup', quick ? 0 : 2, 0),
            durationSec: wholeNumber(parsed.duration, 'duration', quick ? 1 : 8, 1),
            connections: wholeNumber(parsed.connections, 'connections', 100, 1),
            redisUrl: parsed.redis,
            postgres: parsed.postgres
        };
    },

    command(argv: string[]): string {

        return argv.length ? `npm run bench:rate-limits -- ${argv.join(' ')}` : 'npm run bench:rate-limits';
    },

    key(store: Store, scenario: Scenario, state: BudgetsState): string {

        return `${store.name} ${scenario.name} ${state}`;
    },

    /** Redis answers PING, and its process, when it runs on this machine, so that its CPU time can be read too. */
    async redis(url: string): Promise<{ client: Redis; pid: number | null }> {

        const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
        client.on('error', () => {

            // connect() and ping() reject with the same error, reported below.
        });

        try {
            await client.connect();
            const pong = await client.ping();
            if (pong !== 'PONG') {
                throw new Error(`PING answered ${pong}`);
            }
        }
        catch (err) {
            client.disconnect();
            throw new Error(`no Redis answers at ${url} (${(err as Error).message}): start one (redis-server), give its URL with --redis or ` +
                'BENCH_REDIS_URL, or leave the Redis stores out (--stores memory,cluster)');
        }

        // A Redis elsewhere (another machine, a container) has a process_id that means nothing here.
        const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
        const pid = /^process_id:(\d+)/m.exec(await client.info('server'));
        return { client, pid: local && pid && processCpuSeconds(Number(pid[1])) !== null ? Number(pid[1]) : null };
    },

    /** Whether Redis holds a key of the user's (their budget's, whatever the service's prefix). */
    async redisHasKey(client: Redis, userId: string): Promise<boolean> {

        let cursor = '0';
        do {
            const [next, keys] = await client.scan(cursor, 'MATCH', `*:${userId}`, 'COUNT', 1000);
            if (keys.length) {
                return true;
            }

            cursor = next;
        } while (cursor !== '0');

        return false;
    },

    /** 429 answers in a service's request log (one line per response). */
    refusals(logFile: string): number {

        return Fs.readFileSync(logFile, 'utf8').split('"statusCode":429').length - 1;
    }
};


function serverSettings(run: Run, store: Store, state: BudgetsState): ServerSettings {

    return {
        databaseUrl: databaseUrl(run.options.postgres, run.set.name),
        secret: run.secret,
        cpus: store.pinned ? internals.serverCpu : null,
        workers: store.workers,
        logFile: Path.join(run.dir, `service-${store.name}-${state}-${Crypto.randomUUID()}.log`),
        env: { ...internals.environment[state], ...(store.redis ? { RATE_LIMIT_REDIS_URL: run.options.redisUrl } : {}) }
    };
}


function loadSettings(run: Run, store: Store): LoadSettings {

    return {
        connections: run.options.connections,
        threads: store.pinned ? 1 : Math.min(2, run.options.connections),
        cpus: store.pinned ? internals.loadCpu : null
    };
}


/**
 * The budgets are what the run says they are. On: an answer carries the user's RateLimit-Policy with q=1000000, a
 * failed authentication the address's, and requests of one user, each on a connection of its own (so that with
 * workers they go to either), find the count one lower each time: one count per request, kept in one place (with
 * Redis, the user's key is there). Off: no answer carries RateLimit-Policy or RateLimit.
 */
async function checkBudgets(run: Run, store: Store, state: BudgetsState, server: RunningServer): Promise<void> {

    const [get] = scenarios(['get']);
    const where = `${store.label}, budgets ${state}`;
    const remaining: number[] = [];
    for (let i = 0; i < internals.countedRequests; ++i) {
        const reply = await requestOnce(server, run.users, get, run.secret);
        const policy = reply.headers['ratelimit-policy'];
        const counted = reply.headers.ratelimit;
        if (reply.status !== 200) {
            throw new Error(`${where}: ${get.label} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
        }

        if (state === 'off') {
            if (policy !== undefined || counted !== undefined) {
                throw new Error(`${where}: the answer carries RateLimit-Policy: ${policy}, RateLimit: ${counted}; the budgets are not off`);
            }

            continue;
        }

        const left = /;r=(\d+)/.exec(String(counted));
        if (typeof policy !== 'string' || !policy.startsWith(`"user";q=${internals.onQuota};`) || !left) {
            throw new Error(`${where}: the answer carries RateLimit-Policy: ${policy}, RateLimit: ${counted}; expected the user's budget of ${internals.onQuota}`);
        }

        remaining.push(Number(left[1]));
    }

    // A window that ends between two requests starts the count again.
    const oneEach = remaining.every((left, i) => i === 0 || left === remaining[i - 1] - 1 || left === internals.onQuota - 1);
    if (!oneEach) {
        throw new Error(`${where}: ${internals.countedRequests} requests of one user left ${remaining.join(', ')} in the budget: not one count each in one place`);
    }

    const failed = await request(`${server.url}/api/tasks`, { headers: { authorization: 'Bearer not-a-token' } });
    const policy = failed.headers['ratelimit-policy'];
    if (failed.status !== 401) {
        throw new Error(`${where}: a request with a token that is none answered ${failed.status}, not 401: ${failed.body.slice(0, 300)}`);
    }

    if (state === 'off') {
        if (policy !== undefined) {
            throw new Error(`${where}: a failed authentication carries RateLimit-Policy: ${policy}; AUTH_FAILURES_PER_MIN=0 is not off`);
        }

        return;
    }

    const quota = /^"auth-failures";q=(\d+);/.exec(String(policy));
    if (!quota) {
        throw new Error(`${where}: a failed authentication carries RateLimit-Policy: ${policy}, not the address's failures budget`);
    }

    run.authFailuresQuota = Number(quota[1]);
    if (store.redis && !await internals.redisHasKey(run.redis!.client, run.users.readers[0].userId)) {
        throw new Error(`${where}: Redis at ${run.options.redisUrl} holds no key of ${run.users.readers[0].userId} after its requests: the budgets are not kept there`);
    }
}


function removeCreated(run: Run): Promise<number> {

    return withDatabase(databaseUrl(run.options.postgres, run.set.name), (db) => removeCreatedTasks(db, run.users.creators));
}


/** wrk for `seconds`, with the service's CPU time (and Redis's) read before and after. */
async function measure(run: Run, store: Store, server: RunningServer, scenario: Scenario, seconds: number): Promise<Sample> {

    const redisPid = store.redis ? run.redis!.pid : null;
    const cpuBefore = serverCpuSeconds(server);
    const redisBefore = redisPid === null ? null : processCpuSeconds(redisPid);
    const measurement = await wrk(server.url, wrkRequest(run.files, scenario), loadSettings(run, store), seconds);
    const cpu = serverCpuSeconds(server) - cpuBefore;
    const redisAfter = redisPid === null ? null : processCpuSeconds(redisPid);

    if (scenario.name === 'create') {
        await removeCreated(run);
    }

    return {
        measurement,
        cpuUs: 1e6 * cpu / measurement.requests,
        cores: cpu / (measurement.requests / measurement.reqPerSec),
        redisCpuUs: redisBefore === null || redisAfter === null ? null : 1e6 * (redisAfter - redisBefore) / measurement.requests
    };
}


/**
 * One store in one round: the service started with the budgets off and on (each on its own port, the idle one
 * waiting), both checked, a warm-up pass over every scenario on each (so that the scenario measured first does not
 * also pay for the process's start), then each scenario on one and at once on the other, each with its own warm-up:
 * the two measurements of a scenario are seconds apart, so that what else the machine does falls on both alike.
 * Which goes first alternates between rounds. A 429 anywhere in the on server's log fails the run.
 */
async function measureStore(run: Run, store: Store, round: number): Promise<void> {

    const { options } = run;
    const order = round % 2 ? internals.states : [...internals.states].reverse();
    const servers = new Map<BudgetsState, RunningServer>();
    let failure: unknown = null;

    try {
        // Both at once: a start is mostly waiting for a core, and the two are measured only once both are up.
        const starts = await Promise.allSettled(order.map((state) => startServer('service', serverSettings(run, store, state))));
        starts.forEach((start, i) => {

            if (start.status === 'fulfilled') {
                servers.set(order[i], start.value);
            }
        });

        const failed = starts.find((start) => start.status === 'rejected');
        if (failed) {
            throw failed.reason;
        }

        for (const state of order) {
            const server = servers.get(state)!;
            await checkBudgets(run, store, state, server);
            for (const scenario of run.scenarios) {
                await checkStatus(server, run.users, scenario, run.secret);
            }
        }

        if (options.warmupSec > 0) {
            for (const scenario of run.scenarios) {
                for (const state of order) {
                    await measure(run, store, servers.get(state)!, scenario, options.warmupSec);
                }
            }
        }

        for (const scenario of run.scenarios) {
            for (const state of order) {
                if (options.warmupSec > 0) {
                    await measure(run, store, servers.get(state)!, scenario, options.warmupSec);
                }

                const sample = await measure(run, store, servers.get(state)!, scenario, options.durationSec);
                const key = internals.key(store, scenario, state);
                run.samples.set(key, [...run.samples.get(key) ?? [], sample]);
                run.loads.push(Os.loadavg()[0]);

                const { measurement } = sample;
                const redis = sample.redisCpuUs === null ? '' : `, Redis ${us(sample.redisCpuUs)}`;
                progress(`round ${round}, ${store.name.padEnd(13)} ${scenario.name.padEnd(6)} ${state.padEnd(3)} ${rate(measurement.reqPerSec).padStart(6)} req/s  ` +
                    `p50 ${ms(measurement.p50Ms)}  p99 ${ms(measurement.p99Ms)}  CPU ${us(sample.cpuUs)}/request (${sample.cores.toFixed(2)} cores)${redis}`);
            }
        }
    }
    catch (err) {
        failure = err;
    }
    finally {
        for (const server of servers.values()) {
            await server.stop();
        }
    }

    const on = servers.get('on');
    const refused = on ? internals.refusals(on.logFile) : 0;
    for (const server of servers.values()) {
        Fs.rmSync(server.logFile, { force: true });
    }

    if (refused > 0) {
        throw new Error(`${store.label}, budgets on: ${refused} answers were 429: the budget of ${internals.onQuota} a minute refused requests, so the figures would not be of counting alone`);
    }

    if (failure) {
        throw failure;
    }
}


/** A store's and scenario's samples off and on, round by round (each pair taken seconds apart). */
function pairs(run: Run, store: Store, scenario: Scenario): { off: Sample; on: Sample }[] {

    const off = run.samples.get(internals.key(store, scenario, 'off'))!;
    const on = run.samples.get(internals.key(store, scenario, 'on'))!;
    return off.map((sample, i) => ({ off: sample, on: on[i] }));
}


function mainTable(run: Run): string {

    const rows: Row[] = [];
    for (const store of run.stores) {
        for (const scenario of run.scenarios) {
            const rounds = pairs(run, store, scenario);
            const off = (pick: (m: Measurement) => number) => median(rounds.map((pair) => pick(pair.off.measurement)));
            const on = (pick: (m: Measurement) => number) => median(rounds.map((pair) => pick(pair.on.measurement)));
            rows.push([
                store.label, scenario.label, rate(off((m) => m.reqPerSec)), rate(on((m) => m.reqPerSec)),
                ratio(median(rounds.map((pair) => pair.on.measurement.reqPerSec / pair.off.measurement.reqPerSec))),
                ms(off((m) => m.p50Ms)), ms(on((m) => m.p50Ms)), ms(off((m) => m.p99Ms)), ms(on((m) => m.p99Ms))
            ]);
        }
    }

    return table(['store', 'scenario', 'off req/s', 'on req/s', 'on/off req/s', 'off p50', 'on p50', 'off p99', 'on p99'], rows);
}


function costTable(run: Run): string {

    const rows: Row[] = [];
    for (const store of run.stores) {
        for (const scenario of run.scenarios) {
            const rounds = pairs(run, store, scenario);
            const byRps = median(rounds.map((pair) => 1e6 / pair.on.measurement.reqPerSec - 1e6 / pair.off.measurement.reqPerSec));
            const cpu = (state: BudgetsState) => median(rounds.map((pair) => pair[state].cpuUs));
            const cores = (state: BudgetsState) => median(rounds.map((pair) => pair[state].cores)).toFixed(2);
            const redis = rounds.every((pair) => pair.on.redisCpuUs !== null && pair.off.redisCpuUs !== null) ?
                us(median(rounds.map((pair) => pair.on.redisCpuUs! - pair.off.redisCpuUs!))) :
                '–';

            rows.push([
                store.label, scenario.name, us(byRps), us(cpu('off')), us(cpu('on')),
                us(median(rounds.map((pair) => pair.on.cpuUs - pair.off.cpuUs))),
                percent(median(rounds.map((pair) => (pair.on.cpuUs - pair.off.cpuUs) / pair.off.cpuUs))),
                `${cores('off')} / ${cores('on')}`, redis
            ]);
        }
    }

    return table(['store', 'scenario', '1/req/s on − off', 'service CPU/request off', 'on', 'on − off', 'on − off, of off', 'service cores busy off / on', 'Redis CPU/request on − off'], rows);
}


function roundsTable(run: Run): string {

    const rows: Row[] = [];
    for (const store of run.stores) {
        for (const scenario of run.scenarios) {
            const rounds = pairs(run, store, scenario);
            rows.push([
                store.name, scenario.name,
                rounds.map((pair) => rate(pair.off.measurement.reqPerSec)).join(', '),
                rounds.map((pair) => rate(pair.on.measurement.reqPerSec)).join(', '),
                rounds.map((pair) => ratio(pair.on.measurement.reqPerSec / pair.off.measurement.reqPerSec)).join(', '),
                rounds.map((pair) => us(pair.on.cpuUs - pair.off.cpuUs)).join(', ')
            ]);
        }
    }

    return table(['store', 'scenario', 'off req/s by round', 'on req/s by round', 'on/off by round', 'CPU/request on − off by round'], rows);
}


function setupText(run: Run): string {

    const { options } = run;
    const warmup = options.warmupSec > 0 ?
        `each server process first warmed by ${options.warmupSec} s of every scenario, then ${options.warmupSec} s warm-up and ` :
        'no warm-up, ';
    const authFailures = run.authFailuresQuota === null ? 'as by default' : `as by default (${run.authFailuresQuota})`;

    return [
        `Budgets off: RATE_LIMIT_PER_MIN=0, AUTH_FAILURES_PER_MIN=0. On: RATE_LIMIT_PER_MIN=${internals.onQuota} (every request counted, none refused: ` +
            `no 429 in the on servers' logs), AUTH_FAILURES_PER_MIN ${authFailures}. Checked on every server before its load: on, answers carry the user's ` +
            'RateLimit-Policy and a failed authentication the address\'s, and a user\'s requests count one each whichever process answers; off, none carries RateLimit-Policy.',
        `1 process: pinned to core ${internals.serverCpu} (\`taskset -c ${internals.serverCpu}\`), wrk (1 thread) to core ${internals.loadCpu}. ` +
            'WEB_CONCURRENCY=2: nothing pinned, wrk with 2 threads. PostgreSQL and Redis unpinned' +
            `${run.stores.some((store) => store.redis) ? ` (Redis at ${options.redisUrl})` : ''}.`,
        `${options.connections} connections, 1 000 users' tokens rotating; ${warmup}${options.durationSec} s measured per scenario, store and budgets state; ` +
            `${options.rounds} round(s), each with, for each store, the service up with the budgets off and on and each scenario measured on one then at once ` +
            'on the other (off first in odd rounds, on first in even ones); medians over rounds, the ratios and differences taken within each round first. ' +
            `The service: \`npm start\` (\`${startScript()}\`), LOG_LEVEL=info, its log to a file${run.dir.startsWith('/dev/shm/') ? ' in memory (tmpfs)' : ''}. ` +
            `Data: ${run.set.name}, ${run.set.users.toLocaleString('en')} users × ${run.set.tasksPerUser} tasks.`
    ].join(' ');
}


function costText(): string {

    return [
        'Per-request cost. 1/req/s on − off: the time each request adds where one core serves the service alone (1 process, pinned);',
        'with WEB_CONCURRENCY=2 it is wall time on cores that wrk, PostgreSQL and Redis share, not CPU time. Service CPU/request:',
        'the user and system time of the service\'s processes (npm, node, the primary and its workers) from /proc over the',
        'measured seconds, divided by wrk\'s responses: it does not depend on the share of a core the service got, as req/s does, but',
        'it still grows when the service answers fewer requests a second (less work per wake-up) and when the machine is busy',
        '(caches and cores shared), so "on − off" is taken within each round, where off and on ran seconds apart.',
        'Redis CPU/request: the Redis server\'s own time, on top of the service\'s (anything else it served meanwhile included).'
    ].join(' ');
}


function loadText(run: Run): string {

    const now = Os.loadavg().map((load) => load.toFixed(2)).join(', ');
    const loads = run.loads;
    return `Load average (1 min) after each measurement: min ${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, ` +
        `max ${Math.max(...loads).toFixed(2)}; at the end ${now}.`;
}


async function main(): Promise<void> {

    const argv = process.argv.slice(2);
    const options = internals.options(argv);
    const started = new Date();

    requireCommand('wrk', 'wrk');
    if (!Fs.existsSync(Path.join(__dirname, '..', 'dist', 'src', 'index.js'))) {
        throw new Error('dist/src/index.js is missing: npm run build first (npm run bench:rate-limits does)');
    }

    const stores = internals.stores.filter((store) => options.stores.includes(store.name));
    const redis = stores.some((store) => store.redis) ? await internals.redis(options.redisUrl) : null;
    const dir = Fs.mkdtempSync(Path.join(scratchDir(), 'todo-bench-rate-limits-'));

    try {
        const info = machine(await postgresVersion(options.postgres));
        const set = dataSets.standard;
        await prepareDataSet(options.postgres, set);
        const users = await benchUsers(options.postgres, set);
        const secret = Crypto.randomBytes(32).toString('base64url');
        const run: Run = {
            options,
            stores,
            scenarios: scenarios(options.scenarios),
            secret,
            dir,
            set,
            users,
            files: writeUserFiles(set, users, secret, dir),
            redis,
            samples: new Map(),
            loads: [],
            authFailuresQuota: null
        };

        progress(`${options.rounds} round(s) of ${run.scenarios.map((scenario) => scenario.name).join(', ')} with the budgets off and on, kept in: ` +
            stores.map((store) => store.label).join('; '));

        for (let round = 1; round <= options.rounds; ++round) {
            for (const store of stores) {
                await measureStore(run, store, round);
            }
        }

        const body = [
            `Run ${started.toISOString()} on ${describeMachine(info)}. ${loadText(run)}`,
            setupText(run),
            mainTable(run),
            costText(),
            costTable(run),
            'Each round:',
            roundsTable(run)
        ].join('\n\n');

        const command = internals.command(argv);
        process.stdout.write(`\n${command}\n\n${body}\n`);
        if (!options.quick) {
            progress(`written to ${Path.relative(process.cwd(), writeResults(command, body))}`);
        }
    }
    finally {
        redis?.client.disconnect();
        Fs.rmSync(dir, { recursive: true, force: true });
    }
}


runMain('bench:rate-limits', main);
