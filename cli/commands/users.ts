import type { Command } from 'commander';

import { DuplicateUserError, userStore } from '../../src/data/users';
import { withDatabase } from '../database';
import type { Io } from '../io';
import { CliError, exitCodes } from '../io';


export function usersCommand(program: Command, io: Io): void {

    const users = program.command('users')
        .description('The directory of users that seeds fill and mint-token looks emails up in')
        .addHelpText('after', `
Examples:
  todo-admin users list --json
  todo-admin users add --email carol@example.com --name Carol`);

    users.command('list')
        .description('List the users')
        .option('--json', 'print a JSON array')
        .addHelpText('after', '\nExample:\n  todo-admin users list --json')
        .action(async (options: { json?: boolean }) => {

            await withDatabase(io, async (db) => {

                const list = await userStore(db).listUsers();
                if (options.json) {
                    io.out(JSON.stringify(list) + '\n');
                    return;
                }

                if (!list.length) {
                    io.out('No users. Add one with todo-admin users add --email E, or run todo-admin seed.\n');
                    return;
                }

                const width = Math.max(...list.map((user) => user.id.length));
                for (const user of list) {
                    io.out(`${user.id.padEnd(width)}  ${user.email}${user.name ? `  (${user.name})` : ''}\n`);
                }
            });
        });

    users.command('add')
        .description('Add a user')
        .requiredOption('--email <email>', 'the user\'s email (unique)')
        .option('--name <name>', 'display name')
        .option('--id <id>', 'the id the auth server gave the user (default: a new random one)')
        .option('--json', 'print the new user as JSON')
        .addHelpText('after', '\nExample:\n  todo-admin users add --email carol@example.com --name "Carol"')
        .action(async (options: { email: string; name?: string; id?: string; json?: boolean }) => {

            if (!/^[^\s@]+@[^\s@]+$/.test(options.email.trim())) {
                throw new CliError(`--email must be an email address, not "${options.email}"`, exitCodes.usage);
            }

            if (options.id !== undefined && !options.id.trim()) {
                throw new CliError('--id must not be empty', exitCodes.usage);
            }

            await withDatabase(io, async (db) => {

                try {
                    const user = await userStore(db).addUser({ id: options.id?.trim(), email: options.email, name: options.name });
                    io.out(options.json ? JSON.stringify(user) + '\n' : `Added ${user.email} as ${user.id}\n`);
                }
                catch (err) {
                    if (err instanceof DuplicateUserError) {
                        throw new CliError(err.message, exitCodes.usage);
                    }

                    throw err;
                }
            });
        });
}
