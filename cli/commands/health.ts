import type { Command } from 'commander';

import { parseListenConfig } from '../../src/config';
import { parseDuration } from '../duration';
import type { Io } from '../io';
import { CliError, configured, exitCodes } from '../io';


interface Probe {
    healthy: boolean;
    url: string;
    status: number | null;
    ms: number;
    body?: unknown;
    reason?: string;
}


const internals = {
    defaultUrl(io: Io): string {

        const { host, port } = configured(() => parseListenConfig(io.env));
        const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
        return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
    },

    describe(err: unknown, timeoutMs: number): string {

        const error = err as Error & { cause?: { code?: string; message?: string } };
        if (error.name === 'TimeoutError' || error.name === 'AbortError') {
            return `no answer within ${timeoutMs} ms`;
        }

        return error.cause?.code ?? error.cause?.message ?? error.message;
    }
};


export async function probe(base: string, timeoutMs: number): Promise<Probe> {

    const url = new URL('/health', base).toString();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);

    let response: Response;
    let text: string;
    try {
        response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
        text = await response.text();
    }
    catch (err) {
        return { healthy: false, url, status: null, ms: elapsed(), reason: `unreachable: ${internals.describe(err, timeoutMs)}` };
    }

    const ms = elapsed();
    let body: { status?: unknown; database?: unknown };
    try {
        body = JSON.parse(text);
    }
    catch {
        return { healthy: false, url, status: response.status, ms, reason: `HTTP ${response.status} with a body that is not JSON` };
    }

    if (response.status === 200 && body?.status === 'ok') {
        return { healthy: true, url, status: 200, ms, body };
    }

    const detail = body && typeof body === 'object' && body.database ? `database ${body.database}` : `status ${JSON.stringify(body?.status ?? null)}`;
    return { healthy: false, url, status: response.status, ms, body, reason: `HTTP ${response.status}, ${detail}` };
}


export function healthCommand(program: Command, io: Io, setExitCode: (code: number) => void): void {

    program.command('health')
        .description('Probe a running server\'s /health: exit 0 when healthy, 1 when unhealthy or unreachable')
        .option('--url <url>', 'the server (default: http://HOST:PORT from the environment, else http://127.0.0.1:8000)')
        .option('--timeout <duration>', 'how long to wait: 500ms, 2s', '2s')
        .option('--json', 'print the probe as JSON')
        .addHelpText('after', `
Examples:
  todo-admin health
  todo-admin health --url https://todo.example.com --timeout 5s --json

As a container probe:  HEALTHCHECK CMD npx todo-admin health || exit 1`)
        .action(async (options: { url?: string; timeout: string; json?: boolean }) => {

            const seconds = parseDuration(options.timeout);
            if (seconds === null) {
                throw new CliError(`--timeout must be a duration such as 500ms or 2s, not "${options.timeout}"`, exitCodes.usage);
            }

            const base = options.url ?? internals.defaultUrl(io);
            if (!/^https?:\/\/[^/]+/.test(base)) {
                throw new CliError(`--url must be an http(s) URL, not "${base}"`, exitCodes.usage);
            }

            const result = await probe(base, Math.round(seconds * 1000));
            if (options.json) {
                io.out(JSON.stringify(result) + '\n');
            }
            else if (result.healthy) {
                const body = result.body as { database?: string; version?: string; jwks?: string };
                const jwks = body.jwks && body.jwks !== 'disabled' ? `, key set ${body.jwks}` : '';
                io.out(`healthy: ${result.url} answered in ${result.ms} ms (database ${body.database}, version ${body.version}${jwks})\n`);
            }
            else {
                io.err(`unhealthy: ${result.url}: ${result.reason} (after ${result.ms} ms)\n`);
            }

            setExitCode(result.healthy ? exitCodes.ok : exitCodes.failure);
        });
}
