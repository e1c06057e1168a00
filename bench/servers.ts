// Starting and stopping the servers the way an operator would: the service with its start command (npm start), its
// two peers (the bare node:http one and hapi's floor) with node, each optionally pinned to a core with taskset; and
// what their processes use, from /proc.
import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Http from 'node:http';
import Net from 'node:net';
import Os from 'node:os';
import Path from 'node:path';


export type ServerKind = 'bare' | 'floor' | 'service';


export interface ServerSettings {
    databaseUrl: string;
    secret: string;
    /** taskset's CPU list, or null to leave the server wherever the scheduler puts it. */
    cpus: string | null;
    /** WEB_CONCURRENCY, or null to leave it unset. */
    workers: string | null;
    /** Where the server's stdout (the service's request log) goes. */
    logFile: string;
    /** More of the server's environment (RATE_LIMIT_PER_MIN, ...), set over the rest. */
    env?: Record<string, string>;
}


export interface RunningServer {
    kind: ServerKind;
    /** The process group: the start command and every process it starts (node, its cluster workers). */
    pid: number;
    url: string;
    logFile: string;
    stop(): Promise<void>;
}


export interface Reply {
    status: number;
    headers: Http.IncomingHttpHeaders;
    body: string;
}


const internals = {
    root: Path.resolve(__dirname, '..'),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 15_000,
    pollMs: 10,

    // Process groups still running, killed when the harness exits however it exits.
    running: new Set<number>(),
    // The kernel's clock ticks per second, in which /proc reports CPU time (getconf CLK_TCK; read once, when needed).
    clockTicks: 0,

    freePort(): Promise<number> {

        return new Promise((resolve, reject) => {

            const probe = Net.createServer().listen(0, '127.0.0.1', () => {

                const { port } = probe.address() as Net.AddressInfo;
                probe.close(() => resolve(port));
            });
            probe.once('error', reject);
        });
    },

    command(kind: ServerKind, direct: boolean): string[] {

        if (kind !== 'service') {
            return [process.execPath, '--import', 'tsx', Path.join('bench', kind === 'bare' ? 'bare-server.ts' : 'hapi-floor.ts')];
        }

        // The README's start command; `direct` runs the start script's own line without npm around it.
        return direct ? ['sh', '-c', startScript()] : ['npm', 'start'];
    },

    /** Every process's /proc/PID/stat fields from the third on (state, ppid, pgrp, ...), by pid. */
    processStats(pids: string[]): Map<number, string[]> {

        const stats = new Map<number, string[]>();
        for (const pid of pids) {
            try {
                const line = Fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
                // The command's name (the second field) may hold spaces and parentheses: the fields after it start past the last ')'.
                stats.set(Number(pid), line.slice(line.lastIndexOf(')') + 2).split(' '));
            }
            catch {
                // Gone since the directory was read.
            }
        }

        return stats;
    },

    /** The pids of a process group's live processes (pgrp, the 5th field of stat). */
    groupPids(group: number): number[] {

        const pids = Fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
        return [...internals.processStats(pids)].filter(([, fields]) => Number(fields[2]) === group).map(([pid]) => pid);
    },

    /** A process's resident memory in bytes (VmRSS), or 0 once it is gone. */
    rssBytes(pid: number): number {

        try {
            const status = Fs.readFileSync(`/proc/${pid}/status`, 'utf8');
            const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
            return kb ? Number(kb[1]) * 1024 : 0;
        }
        catch {
            return 0;
        }
    },

    /** npm itself, which `npm start` leaves running above the server (it names itself "npm start" in cmdline). */
    isNpm(pid: number): boolean {

        try {
            return Fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('npm');
        }
        catch {
            return false;
        }
    },

    /** User and system CPU time of a process (all its threads) from its stat fields, in seconds. */
    cpuSeconds(fields: string[]): number {

        if (!internals.clockTicks) {
            const ticks = ChildProcess.spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
            internals.clockTicks = Number(ticks.stdout.trim()) || 100;
        }

        // utime and stime, the 14th and 15th fields.
        return (Number(fields[11]) + Number(fields[12])) / internals.clockTicks;
    }
};


process.once('exit', () => {

    for (const group of internals.running) {
        try {
            process.kill(-group, 'SIGKILL');
        }
        catch {
            // Already gone.
        }
    }
});


/**
 * Where the token files and the service's log go: memory (tmpfs) when the machine has it, so that the log's writes do
 * not wait behind PostgreSQL's on the same disk.
 */
export function scratchDir(): string {

    try {
        Fs.accessSync('/dev/shm', Fs.constants.W_OK);
        return '/dev/shm';
    }
    catch {
        return Os.tmpdir();
    }
}


/**
 * The CPU time a server's processes have used so far, in seconds: every live process of its group (npm, node, the
 * cluster's primary and workers), from /proc. Read before and after a load, it says what the load cost the server
 * however small a share of the cores it got (req/s says that too), if not how much a busy machine made each thing cost.
 */
export function serverCpuSeconds(server: RunningServer): number {

    const pids = Fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    let seconds = 0;
    for (const fields of internals.processStats(pids).values()) {
        // pgrp, the 5th field.
        if (Number(fields[2]) === server.pid) {
            seconds += internals.cpuSeconds(fields);
        }
    }

    return seconds;
}


/** The pids of a server's own processes: node alone, or the primary and its workers; not npm above it. */
function serverPids(server: RunningServer): number[] {

    return internals.groupPids(server.pid).filter((pid) => !internals.isNpm(pid));
}


/** The resident memory of a server's own processes (serverPids), in bytes. */
export function serverRssBytes(server: RunningServer): number {

    return serverPids(server).reduce((sum, pid) => sum + internals.rssBytes(pid), 0);
}


/** The resident memory of npm, when the server was started with `npm start` (0 otherwise). */
export function npmRssBytes(server: RunningServer): number {

    return internals.groupPids(server.pid).filter(internals.isNpm).reduce((sum, pid) => sum + internals.rssBytes(pid), 0);
}


/** What watchRss saw: the peak, the last sample, and every sample in order. */
export interface RssWatch {
    peakBytes: number;
    lastBytes: number;
    samples: number[];
}


/**
 * Samples a server's resident memory (serverRssBytes) every `everyMs` until stopped, and gives its peak: the most all
 * its processes held at once, which is what a container's memory limit is set against. The processes are looked up
 * again every 5 s (a worker may be replaced); in between only their /proc/PID/status is read.
 */
export function watchRss(server: RunningServer, everyMs = 200): { stop(): RssWatch } {

    let pids = serverPids(server);
    let lookedUp = performance.now();
    const samples: number[] = [];
    const sample = () => {

        if (performance.now() - lookedUp > 5000) {
            pids = serverPids(server);
            lookedUp = performance.now();
        }

        samples.push(pids.reduce((sum, pid) => sum + internals.rssBytes(pid), 0));
    };

    sample();
    const timer = setInterval(sample, everyMs);
    let stopped = false;
    return {
        stop() {

            if (!stopped) {
                stopped = true;
                clearInterval(timer);
                sample();
            }

            return { peakBytes: Math.max(...samples), lastBytes: samples[samples.length - 1], samples };
        }
    };
}


/** The node flags each of a server's own processes was started with (from /proc/PID/cmdline), by pid. */
export function serverCommandLines(server: RunningServer): Map<number, string[]> {

    const lines = new Map<number, string[]>();
    for (const pid of serverPids(server)) {
        try {
            lines.set(pid, Fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
        }
        catch {
            // Gone since it was listed.
        }
    }

    return lines;
}


/** The CPU time one process (a database, a Redis) has used so far, in seconds; null when this machine cannot see it. */
export function processCpuSeconds(pid: number): number | null {

    const fields = internals.processStats([String(pid)]).get(pid);
    return fields ? internals.cpuSeconds(fields) : null;
}


/** package.json's start script, the line npm start runs. */
export function startScript(): string {

    const pkg = JSON.parse(Fs.readFileSync(Path.join(internals.root, 'package.json'), 'utf8'));
    return pkg.scripts.start;
}


/** One request on a connection of its own (no agent keeps a socket to the server open). */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Reply> {

    return new Promise((resolve, reject) => {

        const req = Http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false, timeout: options.timeoutMs ?? 5000 }, (res) => {

            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
            res.once('error', reject);
        });

        req.once('timeout', () => req.destroy(new Error(`${url}: no answer within ${options.timeoutMs ?? 5000} ms`)));
        req.once('error', reject);
        req.end(options.body);
    });
}


/**
 * Starts a server and resolves once its /health answers 200, with how long that took from the spawn.
 * `direct` starts the service with its start script's line instead of npm start (to see npm's share of start-up).
 */
export async function startServer(kind: ServerKind, settings: ServerSettings, direct = false): Promise<RunningServer & { readyMs: number }> {

    const port = await internals.freePort();
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: settings.databaseUrl,
        DB_POOL_MAX: '10',
        BETTER_AUTH_SECRET: settings.secret,
        LOG_LEVEL: 'info'
    };

    if (settings.workers !== null) {
        env.WEB_CONCURRENCY = settings.workers;
    }

    Object.assign(env, settings.env);

    const command = internals.command(kind, direct);
    const argv = settings.cpus === null ? command : ['taskset', '-c', settings.cpus, ...command];
    const log = Fs.openSync(settings.logFile, 'a');
    const started = performance.now();
    const child = ChildProcess.spawn(argv[0], argv.slice(1), { cwd: internals.root, env, stdio: ['ignore', log, 'pipe'], detached: true });
    Fs.closeSync(log);

    internals.running.add(child.pid!);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {

        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });

    const exited = new Promise<void>((resolve) => {

        child.once('exit', () => {

            internals.running.delete(child.pid!);
            resolve();
        });
    });

    const kill = async () => {

        if (child.exitCode !== null || child.signalCode !== null) {
            return;
        }

        child.kill('SIGTERM');
        const timer = setTimeout(() => {

            try {
                process.kill(-child.pid!, 'SIGKILL');
            }
            catch {
                // Gone in the meantime.
            }
        }, internals.stopTimeoutMs);
        await exited;
        clearTimeout(timer);
    };

    const url = `http://127.0.0.1:${port}`;
    while (performance.now() - started < internals.readyTimeoutMs) {
        if (child.exitCode !== null) {
            break;
        }

        const reply = await request(`${url}/health`, { timeoutMs: 1000 }).catch(() => null);
        if (reply?.status === 200) {
            return { kind, pid: child.pid!, url, logFile: settings.logFile, readyMs: performance.now() - started, stop: kill };
        }

        await new Promise((resolve) => setTimeout(resolve, internals.pollMs));
    }

    await kill();
    throw new Error(`${argv.join(' ')} did not answer /health with 200 (exit ${child.exitCode ?? 'none'}):\n${stderr}`);
}
