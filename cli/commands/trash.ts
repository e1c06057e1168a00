import type { Command } from 'commander';

import { parseTaskLimits } from '../../src/config';
import { purgeTrash } from '../../src/data/tasks';
import { withDatabase } from '../database';
import { parseDuration } from '../duration';
import type { Io } from '../io';
import { CliError, configured, exitCodes } from '../io';


const internals = {
    zeroRx: /^0+(\.0+)?(ms|s|m|h|d)?$/,

    /** Seconds, 0 included (everything trashed). */
    age(text: string): number {

        const seconds = internals.zeroRx.test(text.trim()) ? 0 : parseDuration(text);
        if (seconds === null) {
            throw new CliError(`--older-than must be a duration such as 0s, 90m, 12h or 7d, not "${text}"`, exitCodes.usage);
        }

        return seconds;
    }
};


export function trashCommand(program: Command, io: Io): void {

    const trash = program.command('trash')
        .description('The users\' trash: deleted tasks, restorable until TRASH_RETENTION_DAYS have passed')
        .addHelpText('after', `
Examples:
  todo-admin trash purge                    remove what is past TRASH_RETENTION_DAYS now
  todo-admin trash purge --older-than 0s    remove everything in every trash for good`);

    trash.command('purge')
        .description('Remove trashed tasks for good: those past TRASH_RETENTION_DAYS, and with --older-than those deleted that long ago')
        .option('--older-than <duration>', 'also remove the tasks deleted at least this long ago (0s: all of them)')
        .option('--json', 'print the counts as JSON')
        .addHelpText('after', `
The service removes what is past the retention by itself, a little with every delete; this does it all at once.
Tasks removed before the retention leave a note for the change feed, so clients that synced before learn of it.

Example:
  todo-admin trash purge --older-than 7d --json`)
        .action(async (options: { olderThan?: string; json?: boolean }) => {

            const olderThanSec = options.olderThan === undefined ? null : internals.age(options.olderThan);
            const { trashRetentionDays } = configured(() => parseTaskLimits(io.env));

            await withDatabase(io, async (db, where) => {

                const purged = await purgeTrash(db, { olderThanSec, retentionDays: trashRetentionDays });
                if (options.json) {
                    io.out(JSON.stringify({ purged: purged.tasks, tombstones: purged.tombstones }) + '\n');
                    return;
                }

                io.out(`Purged ${purged.tasks} trashed task(s) on ${where}` +
                    `${purged.tombstones ? `; forgot ${purged.tombstones} older deletion(s)` : ''}.\n`);
            });
        });
}
