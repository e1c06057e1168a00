import { Command, CommanderError } from 'commander';

import Package from '../package.json';
import { loadEnvFile } from '../src/config';
import { isDatabaseUnavailable } from '../src/data/errors';
import { DatabaseTlsError } from '../src/data/postgres-tls';
import { doctorCommand } from './commands/doctor';
import { healthCommand } from './commands/health';
import { keysCommand } from './commands/keys';
import { migrateCommand } from './commands/migrate';
import { mintTokenCommand } from './commands/mint-token';
import { seedCommand } from './commands/seed';
import { usersCommand } from './commands/users';
import type { Io } from './io';
import { CliError, exitCodes, processIo } from './io';


export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {

    const program = new Command('todo-admin')
        .description('Operate todo-api: migrations, seed data, test tokens and health probes.\n' +
            'Reads the same environment (and .env) as the server.')
        .version(Package.version)
        .option('--verbose', 'on failure, print the whole error with its stack')
        .showHelpAfterError('(todo-admin --help lists the commands)')
        .configureOutput({ writeOut: io.out, writeErr: io.err })
        .exitOverride()
        .addHelpText('after', `
Exit codes: 0 done (or healthy), 1 failed (or unhealthy), 2 bad options or input, 3 migrations pending.`);

    migrateCommand(program, io, setExitCode);
    seedCommand(program, io);
    mintTokenCommand(program, io);
    healthCommand(program, io, setExitCode);
    doctorCommand(program, io, setExitCode);
    usersCommand(program, io);
    keysCommand(program, io);

    for (const command of program.commands) {
        command.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
        for (const sub of command.commands) {
            sub.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
        }
    }

    return program;
}


/**
 * Runs todo-admin with these arguments and returns its exit code; it never exits the process itself.
 */
export async function run(argv: string[], io: Io): Promise<number> {

    let code: number = exitCodes.ok;
    const program = buildProgram(io, (value) => (code = value));

    try {
        await program.parseAsync(argv, { from: 'user' });
        return code;
    }
    catch (err) {
        if (err instanceof CommanderError) {
            // Help and version end in a "error" too; they are successes.
            return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
        }

        if (program.opts().verbose) {
            io.err(`${(err as Error).stack ?? err}\n`);
        }

        if (err instanceof CliError) {
            io.err(`todo-admin: ${err.message}\n`);
            return err.exitCode;
        }

        // Not "cannot be reached": the line says what TLS found, and the fix.
        if (err instanceof DatabaseTlsError) {
            io.err(`todo-admin: ${err.message}\n`);
            return exitCodes.failure;
        }

        if (isDatabaseUnavailable(err)) {
            io.err('todo-admin: the database cannot be reached (check DATABASE_URL; --verbose shows the cause)\n');
            return exitCodes.failure;
        }

        io.err(`todo-admin: ${(err as Error).message ?? err}\n`);
        return exitCodes.failure;
    }
}


export function main(argv: string[]): Promise<number> {

    loadEnvFile();
    return run(argv, processIo());
}
