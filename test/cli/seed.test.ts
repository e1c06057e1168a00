import { Writable } from 'node:stream';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import { run } from '../../cli/main';
import type { CliTarget } from '../helpers/cli';
import { createCliTarget } from '../helpers/cli';


const test = anyTest.serial as TestFn<CliTarget>;

test.before(async (t) => {

    t.context = await createCliTarget({ migrate: true });
});

test.after.always(async (t) => {

    await t.context?.destroy();
});


const snapshot = (target: CliTarget) => {

    return target.query(async (db) => ({
        users: await db.knex('users').select('id', 'email', 'name').orderBy('id'),
        tasks: await db.knex('tasks').select('id', 'user_id', 'title', 'completed', 'priority').orderBy('id')
    }));
};


test('the demo seed adds alice and bob with tasks, and a second run changes nothing', async (t) => {

    const first = await t.context.cli(['seed']);
    t.is(first.code, 0);
    t.regex(first.stdout, /2 user\(s\) and 7 task\(s\) added/);

    const after = await snapshot(t.context);
    t.deepEqual(after.users.map((user) => user.email), ['alice@example.com', 'bob@example.com']);
    t.true(after.tasks.filter((task) => task.user_id === 'demo-alice').length >= 3);
    t.true(after.tasks.filter((task) => task.user_id === 'demo-bob').length >= 3);

    const second = await t.context.cli(['seed', '--json']);
    t.is(second.code, 0);
    t.deepEqual(JSON.parse(second.stdout).added, { users: 0, tasks: 0 });
    t.deepEqual(await snapshot(t.context), after);
});

test('bulk seed of N users x M tasks inserts exactly N*M tasks for N users, and nothing the second time', async (t) => {

    const before = await snapshot(t.context);

    const first = await t.context.cli(['seed', '--users', '7', '--tasks-per-user', '13', '--batch', '3', '--concurrency', '3', '--json']);
    t.is(first.code, 0);
    const summary = JSON.parse(first.stdout);
    t.like(summary, { users: 7, tasks: 91, rows: 98 });
    t.true(summary.rowsPerSecond > 0);

    const counts = await t.context.query(async (db) => {

        const { rows } = await db.knex.raw(`
            select u.id, count(t.id)::int as tasks from users u left join tasks t on t.user_id = u.id
            where u.id like 'load-%' group by u.id order by u.id`);
        return rows;
    });

    t.is(counts.length, 7);
    t.true(counts.every((row: { tasks: number }) => row.tasks === 13));

    const again = await t.context.cli(['seed', '--users', '7', '--tasks-per-user', '13', '--batch', '3']);
    t.is(again.code, 0);
    t.regex(again.stdout, /0 user\(s\) and 0 task\(s\).*7 user\(s\) already existed/);
    t.regex(again.stderr, /^seeded 3\/7 users, 0 rows, \d+ rows\/s\n[\s\S]*seeded 7\/7 users, 0 rows/);

    const after = await snapshot(t.context);
    t.is(after.users.length, before.users.length + 7);
    t.is(after.tasks.length, before.tasks.length + 91);

    const more = await t.context.cli(['seed', '--users', '9', '--tasks-per-user', '13', '--json']);
    t.like(JSON.parse(more.stdout), { users: 2, tasks: 26 });
});

test('bulk options are checked before anything is written', async (t) => {

    const before = await snapshot(t.context);
    for (const argv of [
        ['--users', '10'],
        ['--tasks-per-user', '10'],
        ['--users', '0', '--tasks-per-user', '1'],
        ['--users', 'ten', '--tasks-per-user', '1'],
        ['--users', '10', '--tasks-per-user', '-1'],
        ['--users', '10', '--tasks-per-user', '1', '--batch', '0'],
        ['--users', '10', '--tasks-per-user', '1', '--concurrency', '0']
    ]) {
        const result = await t.context.cli(['seed', ...argv]);
        t.is(result.code, 2, argv.join(' '));
        t.regex(result.stderr, /^todo-admin: /);
    }

    t.deepEqual(await snapshot(t.context), before);
});

test('on a terminal, bulk seeding draws a progress bar', async (t) => {

    let drawn = '';
    const terminal = Object.assign(new Writable({ write(chunk, _encoding, done) {

        drawn += chunk;
        done();
    } }), { isTTY: true, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });

    let stdout = '';
    const code = await run(['seed', '--users', '12', '--tasks-per-user', '2', '--batch', '4'], {
        env: t.context.env,
        out: (text) => (stdout += text),
        err: () => undefined,
        progressStream: terminal as unknown as NodeJS.WriteStream
    });

    t.is(code, 0);
    t.regex(drawn, /seeding \|.*\| 12\/12 users \| \d+ rows/);
    t.regex(stdout, /^Seeded .*: \d+ user\(s\) and \d+ task\(s\) in [\d.]+ s, \d+ rows\/s\./);
});
