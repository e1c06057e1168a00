import type { Env } from '../src/config';
import { ConfigError } from '../src/config';


/** Where a command reads its environment and writes its output; tests pass their own. */
export interface Io {
    env: Env;
    out(text: string): void;
    err(text: string): void;
    /** The stream progress is drawn on, when it is a terminal. */
    progressStream: NodeJS.WriteStream | null;
}


/** Documented in docs/operations.md; scripts may rely on them. */
export const exitCodes = {
    ok: 0,
    failure: 1,             // the command could not do its work, or the probed service is unhealthy
    usage: 2,               // bad options or input (unknown user, duplicate email, bad configuration)
    pending: 3              // migrate status: migrations are waiting to be applied
} as const;


/** An expected failure: reported as one line, with its own exit code. */
export class CliError extends Error {

    constructor(message: string, public readonly exitCode: number = exitCodes.failure) {

        super(message);
        this.name = 'CliError';
    }
}


export function processIo(): Io {

    return {
        env: process.env,
        out: (text) => process.stdout.write(text),
        err: (text) => process.stderr.write(text),
        progressStream: process.stderr.isTTY ? process.stderr : null
    };
}


/** Runs fn and turns a configuration error into a usage error. */
export function configured<T>(fn: () => T): T {

    try {
        return fn();
    }
    catch (err) {
        if (err instanceof ConfigError) {
            throw new CliError(`configuration: ${err.message}`, exitCodes.usage);
        }

        throw err;
    }
}
