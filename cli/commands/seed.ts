import CliProgress from 'cli-progress';
import type { Command } from 'commander';

import { bulkSeed } from '../../src/data/bulk-seed';
import type { BulkSeedProgress } from '../../src/data/bulk-seed';
import { withDatabase } from '../database';
import type { Io } from '../io';
import { CliError, exitCodes } from '../io';


interface SeedOptions {
    users?: string;
    tasksPerUser?: string;
    batch: string;
    concurrency: string;
    json?: boolean;
}


const internals = {
    count(text: string, option: string, { min, max }: { min: number; max: number }): number {

        const value = Number(text);
        if (!/^\d+$/.test(text) || value < min || value > max) {
            throw new CliError(`${option} must be a whole number from ${min} to ${max}, not "${text}"`, exitCodes.usage);
        }

        return value;
    },

    rate(rows: number, ms: number): number {

        return Math.round(rows / Math.max(ms / 1000, 0.001));
    }
};


async function demoSeed(io: Io, json: boolean): Promise<void> {

    await withDatabase(io, async (db, where) => {

        const before = await db.knex.raw('select (select count(*) from users)::int as users, (select count(*) from tasks)::int as tasks');
        const [files] = await db.knex.seed.run();
        const after = await db.knex.raw('select (select count(*) from users)::int as users, (select count(*) from tasks)::int as tasks');

        const added = { users: after.rows[0].users - before.rows[0].users, tasks: after.rows[0].tasks - before.rows[0].tasks };
        if (json) {
            io.out(JSON.stringify({ seeds: files, added }) + '\n');
            return;
        }

        io.out(`Ran ${files.length} seed file(s) on ${where}: ${added.users} user(s) and ${added.tasks} task(s) added.\n`);
    });
}


async function bulk(io: Io, options: SeedOptions): Promise<void> {

    if (options.users === undefined || options.tasksPerUser === undefined) {
        throw new CliError('--users and --tasks-per-user go together', exitCodes.usage);
    }

    const users = internals.count(options.users, '--users', { min: 1, max: 100_000_000 });
    const tasksPerUser = internals.count(options.tasksPerUser, '--tasks-per-user', { min: 0, max: 10_000 });
    const batch = internals.count(options.batch, '--batch', { min: 1, max: 1_000_000 });
    const concurrency = internals.count(options.concurrency, '--concurrency', { min: 1, max: 32 });

    await withDatabase(io, async (db, where) => {

        const started = Date.now();
        const bar = io.progressStream && !options.json ?
            new CliProgress.SingleBar({
                stream: io.progressStream,
                format: 'seeding |{bar}| {value}/{total} users | {rows} rows | {rate} rows/s | eta {eta_formatted}',
                hideCursor: true
            }, CliProgress.Presets.shades_classic) :
            null;

        const onBatch = (progress: BulkSeedProgress) => {

            const rows = progress.usersAdded + progress.tasksAdded;
            const rate = internals.rate(rows, Date.now() - started);
            if (bar) {
                bar.update(progress.usersDone, { rows, rate });
            }
            else if (!options.json) {
                io.err(`seeded ${progress.usersDone}/${users} users, ${rows} rows, ${rate} rows/s\n`);
            }
        };

        bar?.start(users, 0, { rows: 0, rate: 0 });
        try {
            const result = await bulkSeed(db, { users, tasksPerUser, batch, concurrency, onBatch });
            bar?.stop();

            const ms = Date.now() - started;
            const rows = result.usersAdded + result.tasksAdded;
            const summary = { users: result.usersAdded, tasks: result.tasksAdded, rows, seconds: ms / 1000, rowsPerSecond: internals.rate(rows, ms) };
            if (options.json) {
                io.out(JSON.stringify(summary) + '\n');
                return;
            }

            const skipped = users - result.usersAdded;
            io.out(`Seeded ${where}: ${result.usersAdded} user(s) and ${result.tasksAdded} task(s) in ${summary.seconds.toFixed(1)} s, ` +
                `${summary.rowsPerSecond} rows/s.${skipped ? ` ${skipped} user(s) already existed and were left as they are.` : ''}\n`);
        }
        finally {
            bar?.stop();
        }
    });
}


export function seedCommand(program: Command, io: Io): void {

    program.command('seed')
        .description('Add the demo users and tasks (safe to run again), or generate synthetic ones for load tests')
        .option('--users <n>', 'generate synthetic users load-1 ... load-N')
        .option('--tasks-per-user <m>', 'tasks for each synthetic user it creates')
        .option('--batch <b>', 'users per transaction', '1000')
        .option('--concurrency <c>', 'transactions in flight at once (the embedded database runs one at a time)', '2')
        .option('--json', 'print the result as JSON')
        .addHelpText('after', `
Examples:
  todo-admin seed                                       alice@example.com and bob@example.com with a few tasks
  todo-admin seed --users 100000 --tasks-per-user 100   10 million tasks for load tests

Synthetic users that already exist are left alone, so a second run adds nothing.`)
        .action(async (options: SeedOptions) => {

            if (options.users === undefined && options.tasksPerUser === undefined) {
                await demoSeed(io, Boolean(options.json));
                return;
            }

            await bulk(io, options);
        });
}
