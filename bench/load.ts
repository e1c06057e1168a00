// The load generators: wrk against a server, pgbench against the database alone.
import ChildProcess from 'node:child_process';
import Path from 'node:path';


export interface LoadSettings {
    connections: number;
    /** Load-generator threads. */
    threads: number;
    /** taskset's CPU list, or null to leave the generator unpinned. */
    cpus: string | null;
}


export interface WrkRequest {
    method: string;
    /** May hold {id}: each user's task id. */
    path: string;
    body: string | null;
    /** One line per user: token, tab, task id. */
    usersFile: string;
}


export interface Measurement {
    requests: number;
    durationUs: number;
    reqPerSec: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** Every latency wrk recorded, as [microseconds, count] in ascending order, where the script reports them. */
    latencies?: [number, number][];
}


export interface PgbenchResult {
    clients: number;
    tps: number;
    latencyMs: number;
}


/**
 * How long a scenario's run of wrk holds each connection's first request once the connection is open, left out of the
 * measured seconds. Each run opens its connections at once, and the first quarter second after that is slow on every
 * server (under get's load, p99 40-150 ms in that quarter against 16-30 ms after it, on the hapi floor as on the
 * service), so that with slices of 2 s the opening, not the answering, decided each server's p99.
 */
export const openingHoldSec = 1;


const internals = {
    script: Path.join(__dirname, 'rotate.lua'),
    mixedScript: Path.join(__dirname, 'mixed.lua'),

    async wrk(url: string, script: string, args: string[], label: string, settings: LoadSettings, seconds: number, holdSec = 0): Promise<Measurement> {

        const argv = ['wrk', `-t${settings.threads}`, `-c${settings.connections}`, `-d${seconds + holdSec}s`, '--timeout', '30s', '-s', script, url, '--', ...args];
        const { code, stdout, stderr } = await internals.run(argv, settings.cpus);
        const line = stdout.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
        if (code !== 0 || !line) {
            throw new Error(`wrk failed (exit ${code}): ${stderr || stdout}`);
        }

        const result = JSON.parse(line.slice('BENCH_RESULT '.length));
        const failures = result.bad_status + result.connect + result.read + result.write + result.timeout;
        if (failures > 0 || result.requests === 0) {
            throw new Error(`${label} on ${url}: ${result.requests} responses, ${result.bad_status} of them 4xx/5xx; ` +
                `socket errors: connect ${result.connect}, read ${result.read}, write ${result.write}, timeout ${result.timeout}`);
        }

        const latencies = stdout.split('\n').find((text) => text.startsWith('BENCH_LATENCY '));
        // wrk's time runs from before the connections open; a held first request's latency starts when it is sent.
        const durationUs = result.duration_us - holdSec * 1e6;
        return {
            requests: result.requests,
            durationUs,
            reqPerSec: result.requests / (durationUs / 1e6),
            p50Ms: result.p50_us / 1000,
            p99Ms: result.p99_us / 1000,
            maxMs: result.max_us / 1000,
            latencies: latencies?.slice('BENCH_LATENCY '.length).split(' ').filter(Boolean).map((pair) => pair.split(':').map(Number) as [number, number])
        };
    },

    /** The latency at percentile p of recorded latencies, ranked as wrk ranks them. */
    percentile(latencies: [number, number][], count: number, p: number): number {

        const rank = Math.round((p / 100) * count + 0.5);
        let seen = 0;
        for (const [us, n] of latencies) {
            seen += n;
            if (seen >= rank) {
                return us;
            }
        }

        return latencies.at(-1)?.[0] ?? 0;
    },

    run(argv: string[], cpus: string | null): Promise<{ code: number | null; stdout: string; stderr: string }> {

        const full = cpus === null ? argv : ['taskset', '-c', cpus, ...argv];
        return new Promise((resolve, reject) => {

            const child = ChildProcess.spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            child.stdout.on('data', (chunk: Buffer) => {

                stdout += chunk.toString('utf8');
            });
            child.stderr.on('data', (chunk: Buffer) => {

                stderr += chunk.toString('utf8');
            });
            child.once('error', reject);
            child.once('close', (code) => resolve({ code, stdout, stderr }));
        });
    }
};


/**
 * Several measurements of one load taken as one: their requests over their seconds, and the percentiles of all their
 * latencies together (each measurement must carry its latencies).
 */
export function combined(slices: Measurement[]): Measurement {

    const counts = new Map<number, number>();
    for (const slice of slices) {
        if (!slice.latencies) {
            throw new Error('combined() needs the latencies of every measurement');
        }

        for (const [us, n] of slice.latencies) {
            counts.set(us, (counts.get(us) ?? 0) + n);
        }
    }

    const latencies = [...counts].sort(([a], [b]) => a - b);
    const count = latencies.reduce((sum, [, n]) => sum + n, 0);
    const requests = slices.reduce((sum, slice) => sum + slice.requests, 0);
    const durationUs = slices.reduce((sum, slice) => sum + slice.durationUs, 0);
    return {
        requests,
        durationUs,
        reqPerSec: requests / (durationUs / 1e6),
        p50Ms: internals.percentile(latencies, count, 50) / 1000,
        p99Ms: internals.percentile(latencies, count, 99) / 1000,
        maxMs: Math.max(...slices.map((slice) => slice.maxMs)),
        latencies
    };
}


/** The mixed load: the four scenarios in turn, each request the next user's (bench/mixed.lua). */
export interface MixedRequest {
    readersFile: string;
    creatorsFile: string;
    createBody: string;
}


/**
 * Runs wrk for `seconds` with one scenario's request and returns what it measured, from the moment its connections
 * are open and their first requests go out (each connection's first request is held a second, not measured). Fails
 * when any response was an error status (wrk counts every status of 400 and above) or a socket failed or timed out:
 * a figure made of failures is no figure.
 */
export async function wrk(url: string, request: WrkRequest, settings: LoadSettings, seconds: number): Promise<Measurement> {

    const perThread = Math.floor(settings.connections / settings.threads);
    const args = [request.method, request.path, request.body ?? '-', request.usersFile, String(perThread), String(openingHoldSec * 1000)];
    return await internals.wrk(url, internals.script, args, `${request.method} ${request.path}`, settings, seconds, openingHoldSec);
}


/** wrk for `seconds` with the mixed load, failing as wrk() does. */
export async function wrkMixed(url: string, request: MixedRequest, settings: LoadSettings, seconds: number): Promise<Measurement> {

    const args = [request.readersFile, request.creatorsFile, request.createBody];
    return await internals.wrk(url, internals.mixedScript, args, 'the mixed load', settings, seconds);
}


/** pgbench with a custom script on the database itself: what PostgreSQL answers with no server in between. */
export async function pgbench(databaseUrl: string, scriptFile: string, clients: number, settings: LoadSettings, seconds: number): Promise<PgbenchResult> {

    const argv = [
        'pgbench', '--no-vacuum', '--protocol=extended', `--client=${clients}`, `--jobs=${Math.min(settings.threads, clients)}`,
        `--time=${seconds}`, `--file=${scriptFile}`, databaseUrl
    ];

    const { code, stdout, stderr } = await internals.run(argv, settings.cpus);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    const latency = /latency average = ([\d.]+) ms/.exec(stdout);
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    if (code !== 0 || !tps || !latency || (failed && Number(failed[1]) > 0)) {
        throw new Error(`pgbench failed (exit ${code}): ${stderr}${stdout}`);
    }

    return { clients, tps: Number(tps[1]), latencyMs: Number(latency[1]) };
}
