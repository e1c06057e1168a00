import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { CliTarget } from '../helpers/cli';
import { createCliTarget } from '../helpers/cli';


const test = anyTest.serial as TestFn<CliTarget>;

test.before(async (t) => {

    t.context = await createCliTarget({ migrate: true });
});

test.after.always(async (t) => {

    await t.context?.destroy();
});


test('users add and users list', async (t) => {

    const { cli } = t.context;
    t.is((await cli(['users', 'list'])).stdout, 'No users. Add one with todo-admin users add --email E, or run todo-admin seed.\n');

    const added = await cli(['users', 'add', '--email', ' Carol@Example.com ', '--name', 'Carol', '--json']);
    t.is(added.code, 0);
    const carol = JSON.parse(added.stdout);
    t.like(carol, { email: 'carol@example.com', name: 'Carol' });
    t.regex(carol.id, /^[A-Za-z0-9]{32}$/);

    const withId = await cli(['users', 'add', '--email', 'dave@example.com', '--id', 'auth-id-dave']);
    t.is(withId.stdout, 'Added dave@example.com as auth-id-dave\n');

    const list = await cli(['users', 'list', '--json']);
    t.deepEqual(JSON.parse(list.stdout).map((user: { email: string }) => user.email), ['carol@example.com', 'dave@example.com']);

    const human = await cli(['users', 'list']);
    t.regex(human.stdout, /auth-id-dave +dave@example\.com\n/);
});

test('a duplicate email or id, and a malformed email, are usage errors that change nothing', async (t) => {

    const { cli } = t.context;
    await cli(['users', 'add', '--email', 'erin@example.com', '--id', 'erin']);
    const before = (await cli(['users', 'list', '--json'])).stdout;

    const email = await cli(['users', 'add', '--email', 'ERIN@example.com']);
    t.is(email.code, 2);
    t.is(email.stderr, 'todo-admin: a user with email erin@example.com already exists\n');

    const id = await cli(['users', 'add', '--email', 'other@example.com', '--id', 'erin']);
    t.is(id.code, 2);
    t.is(id.stderr, 'todo-admin: a user with id erin already exists\n');

    const malformed = await cli(['users', 'add', '--email', 'not-an-email']);
    t.is(malformed.code, 2);

    const missing = await cli(['users', 'add']);
    t.is(missing.code, 2);
    t.regex(missing.stderr, /required option '--email <email>'/);

    t.is((await cli(['users', 'list', '--json'])).stdout, before);
});
