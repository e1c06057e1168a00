import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { CliTarget } from '../helpers/cli';
import { createCliTarget } from '../helpers/cli';


// Serial: on the embedded database only one connection may be open at a time.
const test = anyTest.serial as TestFn<CliTarget>;

test.before(async (t) => {

    t.context = await createCliTarget();
});

test.after.always(async (t) => {

    await t.context?.destroy();
});


const all = [
    '20261122053000_create_tasks.ts', '20261122053100_create_users.ts',
    '20261201090000_index_task_lists.ts', '20261201090100_create_idempotency_keys.ts',
    '20261206120000_index_idempotency_keys_by_user.ts', '20261207090000_index_task_text.ts',
    '20261207100000_track_task_changes.ts', '20261207110000_notify_changes.ts', '20261207120000_announce_after_commit.ts',
    '20261208090000_organize_tasks.ts'
];


test('status, latest, rollback and latest again', async (t) => {

    const { cli } = t.context;

    const fresh = await cli(['migrate', 'status', '--json']);
    t.is(fresh.code, 3);
    t.deepEqual(JSON.parse(fresh.stdout), { applied: [], pending: all, current: false });

    const up = await cli(['migrate']);
    t.is(up.code, 0);
    t.regex(up.stdout, new RegExp(`^Applied ${all.length} migration\\(s\\) to .* as batch 1 in \\d+ ms:\n${all.map((name) => ` {2}${name.replace('.', '\\.')}\n`).join('')}$`));

    const current = await cli(['migrate', 'status']);
    t.is(current.code, 0);
    t.regex(current.stdout, new RegExp(`Applied \\(${all.length}\\):[\\s\\S]*Pending \\(0\\):\n {2}none`));
    t.true(await t.context.query((db) => db.knex.schema.hasTable('tasks')));

    const again = await cli(['migrate', 'latest', '--json']);
    t.is(again.code, 0);
    t.deepEqual(JSON.parse(again.stdout).applied, []);

    const down = await cli(['migrate', 'rollback']);
    t.is(down.code, 0);
    t.regex(down.stdout, new RegExp(`Rolled back ${all.length} migration\\(s\\)`));
    t.false(await t.context.query((db) => db.knex.schema.hasTable('tasks')));
    t.is((await cli(['migrate', 'status'])).code, 3);

    const nothing = await cli(['migrate', 'rollback']);
    t.is(nothing.stdout, 'Nothing to roll back.\n');

    t.is((await cli(['migrate', 'latest'])).code, 0);
    t.is((await cli(['migrate', 'status'])).code, 0);
});

test('a stuck lock is reported with the command that releases it', async (t) => {

    const { cli } = t.context;
    t.is((await cli(['migrate', 'rollback', '--all'])).code, 0);
    await t.context.query((db) => db.knex('knex_migrations_lock').update({ is_locked: 1 }));

    const stuck = await cli(['migrate']);
    t.is(stuck.code, 1);
    t.is(stuck.stdout, '');
    t.regex(stuck.stderr, /^todo-admin: the migrations lock is held.*todo-admin migrate unlock\n$/);
    t.false(stuck.stderr.includes('    at '), 'no stack trace without --verbose');

    const unlock = await cli(['migrate', 'unlock']);
    t.is(unlock.code, 0);
    t.is((await cli(['migrate'])).code, 0);
});

test('bad actions and names are usage errors', async (t) => {

    const { cli } = t.context;
    const unknown = await cli(['migrate', 'sideways']);
    t.is(unknown.code, 2);
    t.regex(unknown.stderr, /unknown action "sideways"/);

    const nameless = await cli(['migrate', 'make']);
    t.is(nameless.code, 2);
    const badName = await cli(['migrate', 'make', '../../etc/evil']);
    t.is(badName.code, 2);
});

test('an unreachable database is one clear line and exit 1; --verbose adds the cause', async (t) => {

    const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DB_TIMEOUT_MS: '300' };
    const down = await t.context.cli(['migrate', 'status'], env);
    t.is(down.code, 1);
    t.is(down.stderr, 'todo-admin: the database cannot be reached (check DATABASE_URL; --verbose shows the cause)\n');

    const verbose = await t.context.cli(['--verbose', 'migrate', 'status'], env);
    t.regex(verbose.stderr, /ECONNREFUSED/);

    const malformed = await t.context.cli(['migrate'], { DATABASE_URL: 'mysql://x' });
    t.is(malformed.code, 2);
    t.regex(malformed.stderr, /^todo-admin: configuration: DATABASE_URL must start with postgres:\/\//);
});
