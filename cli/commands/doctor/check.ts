import type { Config, Env } from '../../../src/config';
import type { Database } from '../../../src/data/database';
import { isDatabaseUnavailable } from '../../../src/data/errors';
import { DatabaseTlsError } from '../../../src/data/postgres-tls';
import type { DatabaseFacts } from '../../../src/data/diagnostics';


export type Verdict = 'ok' | 'warn' | 'fail';


export interface Check {
    check: string;
    status: Verdict;
    detail: string;
    /** What to do about a warn or a fail. */
    fix?: string;
}


/** What every check is given: the configuration as the server reads it, and the environment it was read from. */
export interface Deployment {
    config: Config;
    env: Env;
}


/** What the checks of a database that answered are given besides. */
export interface Reached extends Deployment {
    db: Database;
    facts: DatabaseFacts;
}


export const ok = (check: string, detail: string): Check => ({ check, status: 'ok', detail });
export const warn = (check: string, detail: string, fix: string): Check => ({ check, status: 'warn', detail, fix });
export const fail = (check: string, detail: string, fix: string): Check => ({ check, status: 'fail', detail, fix });


/** A failure's cause in a few words: the database's or the network's code where there is one. */
export function reason(err: unknown): string {

    if (err instanceof DatabaseTlsError) {
        return err.message;
    }

    const error = err as Error & { cause?: { code?: string; message?: string }; code?: string };
    if (error.name === 'TimeoutError' || error.name === 'AbortError') {
        return 'no answer in time';
    }

    if (isDatabaseUnavailable(err) && error.code) {
        return error.code;
    }

    return error.cause?.code ?? error.cause?.message ?? error.message.split('\n')[0];
}


/** One line per check, and its fix on the next one. */
export function line(check: Check): string {

    return `${check.status.padEnd(4)}  ${check.check.padEnd(10)}  ${check.detail}${check.fix ? `\n${' '.repeat(18)}fix: ${check.fix}` : ''}\n`;
}
