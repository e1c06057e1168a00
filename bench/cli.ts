// What the bench commands share as commands: their options' checks, their progress lines, the programs they need
// (named, never installed) and how they end (exit 2 for bad options, 1 for a failed run, 130 when interrupted), each
// ending with the servers they started stopped.
import ChildProcess from 'node:child_process';


/** A progress line on stderr, with the seconds since the harness started. */
export function progress(message: string): void {

    process.stderr.write(`bench [${process.uptime().toFixed(1).padStart(5)} s] ${message}\n`);
}


/**
 * Fails, naming the Debian package to install, when a command the run needs is missing: the bench installs nothing
 * itself (docs/performance.md lists what it needs).
 */
export function requireCommand(command: string, debianPackage: string): void {

    if (ChildProcess.spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status !== 0) {
        throw new Error(`${command} is not installed: install it first (on Debian or Ubuntu: apt-get install ${debianPackage})`);
    }
}


/** Bad options: exit 2 with the message, no stack. */
export class UsageError extends Error {}


/** An option's whole number of at least `min`, or `fallback` when it is not given. */
export function wholeNumber(raw: string | undefined, name: string, fallback: number, min: number): number {

    if (raw === undefined) {
        return fallback;
    }

    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min) {
        throw new UsageError(`--${name} must be a whole number of at least ${min}, not "${raw}"`);
    }

    return value;
}


/** Some of `known`, from a comma-separated option, in `known`'s order; `fallback` when the option is not given. */
export function someOf<T extends string>(raw: string | undefined, name: string, known: readonly T[], fallback: readonly T[]): T[] {

    const names = raw === undefined ? fallback : raw.split(',').map((item) => item.trim());
    const unknown = names.filter((item) => !known.includes(item as T));
    if (unknown.length || !names.length) {
        throw new UsageError(`--${name} takes some of ${known.join(',')}, not "${raw}"`);
    }

    return known.filter((item) => names.includes(item));
}


/** Runs a bench command's main and exits with its code; `name` starts every line it writes on failure. */
export function runMain(name: string, main: () => Promise<void>): void {

    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {

            // The 'exit' handler of servers.ts stops what is still running.
            process.exit(130);
        });
    }

    main().catch((err: unknown) => {

        if (err instanceof UsageError) {
            process.stderr.write(`${name}: ${err.message}\n`);
            process.exit(2);
        }

        process.stderr.write(`${name}: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    });
}
