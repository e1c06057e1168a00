import type { Command } from 'commander';

import { withDatabase } from '../../database';
import type { Io } from '../../io';
import { exitCodes } from '../../io';
import { audienceCheck } from './audience';
import type { Check, Deployment, Reached } from './check';
import { fail, line, reason } from './check';
import { configCheck } from './config';
import { corsCheck } from './cors';
import { databaseCheck } from './database';
import { jwksCheck } from './jwks';
import { limitsCheck } from './limits';
import { listenCheck } from './listen';
import { migrationsCheck } from './migrations';
import { poolCheck } from './pool';
import { poolerCheck } from './pooler';
import { streamCheck } from './stream';
import { secretCheck } from './secret';
import { databaseTlsCheck } from './tls';
import { timeoutCheck } from './timeout';


export type { Check, Verdict } from './check';
export type { TlsFacts } from './tls';
export { tlsCheck } from './tls';


const internals = {
    // In the order they are printed. A check that does not apply (the TLS of an embedded database) gives null.
    settings: [secretCheck, audienceCheck, listenCheck, corsCheck] as ((deployment: Deployment) => Check)[],
    database: [migrationsCheck, poolerCheck, streamCheck, databaseTlsCheck, poolCheck, timeoutCheck] as ((reached: Reached) => Check | null | Promise<Check | null>)[],
    services: [limitsCheck, jwksCheck] as ((deployment: Deployment) => Promise<Check>)[]
};


/** Every check of a deployment's soundness, in order; none throws. */
export async function diagnose(io: Io): Promise<Check[]> {

    const { check, config } = configCheck(io.env);
    if (!config) {
        return [check];
    }

    const deployment: Deployment = { config, env: io.env };
    const checks = [check, ...internals.settings.map((next) => next(deployment))];

    try {
        await withDatabase(io, async (db, description) => {

            const reached = await databaseCheck(db, description);
            checks.push(reached.check);
            if (!reached.facts) {
                return;
            }

            for (const next of internals.database) {
                const result = await next({ ...deployment, db, facts: reached.facts });
                if (result) {
                    checks.push(result);
                }
            }
        });
    }
    catch (err) {
        checks.push(fail('database', `cannot be opened: ${reason(err)}`, 'check DATABASE_URL'));
    }

    for (const next of internals.services) {
        checks.push(await next(deployment));
    }

    return checks;
}


export function doctorCommand(program: Command, io: Io, setExitCode: (code: number) => void): void {

    program.command('doctor')
        .description('Check that a deployment is sound: configuration, database, migrations, pool, key set, secret')
        .option('--json', 'print {ok, checks: [{check, status, detail, fix}]}')
        .addHelpText('after', `
One line per check: ok, warn (works, but see the fix) or fail (fix it). Exit 0 when nothing fails, 1 otherwise.

Example:
  DATABASE_URL=postgres://... BETTER_AUTH_SECRET=... todo-admin doctor`)
        .action(async (options: { json?: boolean }) => {

            const checks = await diagnose(io);
            const ok = !checks.some((check) => check.status === 'fail');
            io.out(options.json ? JSON.stringify({ ok, checks }) + '\n' : checks.map(line).join(''));
            setExitCode(ok ? exitCodes.ok : exitCodes.failure);
        });
}
