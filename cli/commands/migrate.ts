import Path from 'node:path';

import type { Command } from 'commander';

import type { Database } from '../../src/data/database';
import { migrationSource, migrationSourcesDirectory } from '../../src/data/migrations';
import { withDatabase } from '../database';
import type { Io } from '../io';
import { CliError, exitCodes } from '../io';


const internals = {
    actions: ['latest', 'rollback', 'status', 'make', 'unlock'],

    list(names: string[]): string {

        return names.map((name) => `  ${name}`).join('\n');
    },

    // Knex stores migration names with their extension, the source's (.ts) whether tsx or the compiled .js ran them;
    // a pending one is named the same way.
    name(entry: string | { file: string } | { name: string }): string {

        return migrationSource.getMigrationName(typeof entry === 'string' ? entry : 'file' in entry ? entry.file : entry.name);
    }
};


async function status(io: Io, db: Database, json: boolean): Promise<number> {

    const [completed, pending] = await db.knex.migrate.list();
    const applied = completed.map(internals.name);
    const waiting = pending.map(internals.name);

    if (json) {
        io.out(JSON.stringify({ applied, pending: waiting, current: waiting.length === 0 }) + '\n');
    }
    else {
        io.out(`Applied (${applied.length}):\n${internals.list(applied) || '  none'}\n`);
        io.out(`Pending (${waiting.length}):\n${internals.list(waiting) || '  none'}\n`);
    }

    return waiting.length ? exitCodes.pending : exitCodes.ok;
}


async function locked<T>(fn: () => Promise<T>): Promise<T> {

    try {
        return await fn();
    }
    catch (err) {
        if (/already locked/i.test((err as Error).message)) {
            throw new CliError('the migrations lock is held: another migrate is running, or one died holding it. ' +
                'When none is running, release it with: todo-admin migrate unlock');
        }

        throw err;
    }
}


export function migrateCommand(program: Command, io: Io, setExitCode: (code: number) => void): void {

    program.command('migrate')
        .description('Apply, inspect or roll back the database migrations (DATABASE_URL, else the embedded database)')
        .argument('[action]', `${internals.actions.join(' | ')}`, 'latest')
        .argument('[name]', 'with make: the new migration\'s name')
        .option('--all', 'with rollback: undo every migration, not only the last batch')
        .option('--json', 'print the result as JSON')
        .addHelpText('after', `
Examples:
  todo-admin migrate                    apply every pending migration
  todo-admin migrate status             list applied and pending; exit 3 when some are pending
  todo-admin migrate rollback           undo the last batch
  todo-admin migrate make add_tags      create migrations/<timestamp>_add_tags.ts (then npm run build)
  todo-admin migrate unlock             release a lock left by a migrate that died`)
        .action(async (action: string, name: string | undefined, options: { all?: boolean; json?: boolean }) => {

            if (!internals.actions.includes(action)) {
                throw new CliError(`unknown action "${action}": use one of ${internals.actions.join(', ')}`, exitCodes.usage);
            }

            if (action === 'make' && !/^[a-z0-9_]+$/i.test(name ?? '')) {
                throw new CliError('make needs a name of letters, digits and underscores, e.g. todo-admin migrate make add_tags', exitCodes.usage);
            }

            await withDatabase(io, async (db, where) => {

                const json = Boolean(options.json);
                const report = (summary: string, names: string[], data: object) => {

                    io.out(json ? JSON.stringify(data) + '\n' : `${summary}\n${internals.list(names)}${names.length ? '\n' : ''}`);
                };

                if (action === 'status') {
                    setExitCode(await status(io, db, json));
                    return;
                }

                if (action === 'latest') {
                    const started = Date.now();
                    const [batch, applied] = await locked(() => db.knex.migrate.latest());
                    const ms = Date.now() - started;
                    report(applied.length ? `Applied ${applied.length} migration(s) to ${where} as batch ${batch} in ${ms} ms:` : `${where} is up to date.`,
                        applied, { applied, batch: applied.length ? batch : null, ms });
                    return;
                }

                if (action === 'rollback') {
                    const [batch, undone] = await locked(() => db.knex.migrate.rollback(undefined, Boolean(options.all)));
                    report(undone.length ? `Rolled back ${undone.length} migration(s) of ${where} (batch ${batch}):` : 'Nothing to roll back.',
                        undone, { rolledBack: undone, batch: undone.length ? batch : null });
                    return;
                }

                if (action === 'unlock') {
                    await db.knex.migrate.forceFreeMigrationsLock();
                    report('Released the migrations lock.', [], { unlocked: true });
                    return;
                }

                const file = await db.knex.migrate.make(name!, { directory: migrationSourcesDirectory, extension: 'ts' });
                report(`Created ${Path.relative(process.cwd(), file)} (npm run build compiles it for todo-admin and the server)`, [], { file });
            });
        });
}
