import anyTest from 'ava';
import type { TestFn } from 'ava';

import { mintToken } from '../../src/auth/tokens';
import { testSecret } from '../helpers/api';
import { runServer, send, startServer } from '../helpers/process';
import type { TlsDatabase, TlsEnvironment } from '../helpers/tls';
import { createTlsDatabase, tlsEnvironment, withUrl } from '../helpers/tls';


const test = anyTest as TestFn<{ environment: TlsEnvironment; database: TlsDatabase }>;


test.before(async (t) => {

    const environment = tlsEnvironment();
    t.context = { environment, database: await createTlsDatabase(environment) };
});

test.after.always(async (t) => {

    await t.context.database?.drop();
});


test('the server on a verified TLS connection (the hosted-database sslmode=require): /health, a task stored, no warning printed', async (t) => {

    const { database, environment } = t.context;
    const server = await startServer({ BETTER_AUTH_SECRET: testSecret, DATABASE_URL: withUrl(database.url, { sslmode: 'require' }), DATABASE_CA_FILE: environment.caFile });
    t.teardown(() => server.destroy());

    t.is((await send(server.uri, 'GET', '/health', {})).status, 200);

    const token = mintToken({ secret: Buffer.from(testSecret), issuer: null, audience: null }, { userId: 'tls-user', ttlSec: 600 }).token;
    const created = await send(server.uri, 'POST', '/api/tasks', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify({ title: 'over TLS' }));
    t.is(created.status, 201, created.body);
    const { id } = JSON.parse(created.body) as { id: string };
    t.deepEqual(await database.query(async (db) => (await db.knex.raw('select title from tasks where id = ?', [id])).rows), [{ title: 'over TLS' }]);

    // Everything it printed is a log line: no SECURITY WARNING, nothing else on stderr.
    t.deepEqual(server.lines.filter((line) => !line.startsWith('{')), []);
    t.false(server.lines.some((line) => line.includes('SECURITY WARNING')));
});

test('with the wrong CA the start fails: exit 1, one line naming the cause and DATABASE_CA_FILE, whatever the number of workers', async (t) => {

    const { database, environment } = t.context;
    for (const workers of ['1', '2']) {
        const { code, output } = await runServer({
            BETTER_AUTH_SECRET: testSecret,
            DATABASE_URL: database.url,
            DATABASE_CA_FILE: environment.wrongCaFile,
            WEB_CONCURRENCY: workers
        });

        t.is(code, 1, output);
        const printed = output.split('\n').slice(1);
        t.is(printed.length, 1, output);
        t.regex(printed[0], new RegExp(`^todo-api: failed to start: the database server's certificate does not verify against DATABASE_CA_FILE ${environment.wrongCaFile} \\(.+\\): set DATABASE_CA_FILE to the PEM file of the CA that signed it$`));
    }
});

test('a DATABASE_CA_FILE that is not a CA file stops the start with one configuration line', async (t) => {

    const { database } = t.context;
    const { code, output } = await runServer({ BETTER_AUTH_SECRET: testSecret, DATABASE_URL: database.url, DATABASE_CA_FILE: '/nonexistent/ca.pem' });
    t.is(code, 1, output);
    t.deepEqual(output.split('\n').slice(1), ['todo-api: configuration error: DATABASE_CA_FILE cannot be read: /nonexistent/ca.pem (no such file)']);
});
