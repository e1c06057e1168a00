import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Check } from '../../cli/commands/doctor';
import { testSecret } from '../helpers/api';
import type { TlsDatabase, TlsEnvironment } from '../helpers/tls';
import { createTlsDatabase, tlsEnvironment, todoAdmin, withUrl } from '../helpers/tls';


// In order: the first test migrates the file's database.
const test = anyTest.serial as TestFn<{ environment: TlsEnvironment; database: TlsDatabase }>;


test.before(async (t) => {

    const environment = tlsEnvironment();
    t.context = { environment, database: await createTlsDatabase(environment, { migrate: false }) };
});

test.after.always(async (t) => {

    await t.context.database?.drop();
});


test('todo-admin over verified TLS: migrate works, doctor says encrypted and verified against the CA file, nothing on stderr', async (t) => {

    const { database, environment } = t.context;
    const env = { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: database.url, DATABASE_CA_FILE: environment.caFile };

    const migrate = await todoAdmin(['migrate', 'latest'], env);
    t.is(migrate.code, 0, migrate.stderr);
    t.regex(migrate.stdout, /^Applied \d+ migration\(s\) to PostgreSQL at 127\.0\.0\.1:\d+\/tls_\w+ as batch 1 in \d+ ms:\n/);
    t.is(migrate.stderr, '');

    const doctor = await todoAdmin(['doctor', '--json'], env);
    t.is(doctor.stderr, '');
    const { checks } = JSON.parse(doctor.stdout) as { ok: boolean; checks: Check[] };
    const tls = checks.find((check) => check.check === 'tls');
    t.is(tls?.status, 'ok', JSON.stringify(tls));
    t.regex(tls!.detail, new RegExp(`^encrypted \\(TLSv1\\.[23], [A-Z0-9_-]+\\); the server's certificate verified against DATABASE_CA_FILE ${environment.caFile}, for the host 127\\.0\\.0\\.1 \\(sslmode=verify-full\\)$`));
    t.like(checks.find((check) => check.check === 'database'), { status: 'ok' });
});

test('sslmode=require: every command works with no SECURITY WARNING, and doctor advises verify-full', async (t) => {

    const { database, environment } = t.context;
    const env = { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: withUrl(database.url, { sslmode: 'require' }), DATABASE_CA_FILE: environment.caFile };

    const status = await todoAdmin(['migrate', 'status'], env);
    t.is(status.code, 0, status.stderr);
    t.is(status.stderr, '');

    const doctor = await todoAdmin(['doctor', '--json'], env);
    t.is(doctor.stderr, '');
    const tls = (JSON.parse(doctor.stdout) as { checks: Check[] }).checks.find((check) => check.check === 'tls');
    t.like(tls, { status: 'warn' });
    t.regex(tls!.detail, /verified against DATABASE_CA_FILE .*\(sslmode=require, taken as verify-full\)$/);
    t.regex(tls!.fix!, /^write sslmode=verify-full in DATABASE_URL/);
});

test('the wrong CA: a command fails with one line naming the cause and DATABASE_CA_FILE, and doctor fails the database check', async (t) => {

    const { database, environment } = t.context;
    const env = { BETTER_AUTH_SECRET: testSecret, DATABASE_URL: database.url, DATABASE_CA_FILE: environment.wrongCaFile };

    const status = await todoAdmin(['migrate', 'status'], env);
    t.is(status.code, 1);
    t.is(status.stdout, '');
    t.regex(status.stderr, new RegExp(`^todo-admin: the database server's certificate does not verify against DATABASE_CA_FILE ${environment.wrongCaFile} \\(.+\\): set DATABASE_CA_FILE to the PEM file of the CA that signed it\\n$`));

    const doctor = await todoAdmin(['doctor', '--json'], env);
    t.is(doctor.code, 1);
    t.is(doctor.stderr, '');
    const check = (JSON.parse(doctor.stdout) as { checks: Check[] }).checks.find((entry) => entry.check === 'database');
    t.like(check, { status: 'fail', fix: 'set DATABASE_CA_FILE to the PEM file of the CA that signed it' });
    t.regex(check!.detail, /^PostgreSQL at 127\.0\.0\.1:\d+\/tls_\w+: the database server's certificate does not verify against DATABASE_CA_FILE /);
});
