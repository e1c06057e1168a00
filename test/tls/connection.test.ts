import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';

import type { Env } from '../../src/config';
import { parseDatabaseConfig } from '../../src/config';
import type { Database } from '../../src/data/database';
import { createDatabase } from '../../src/data/connection';
import { checkDatabaseTls, DatabaseTlsError } from '../../src/data/postgres-tls';
import { serverTls } from '../../src/data/diagnostics';
import { silentKnexLogger } from '../../src/logger';
import type { TlsDatabase, TlsEnvironment } from '../helpers/tls';
import { createTlsDatabase, tlsEnvironment, withUrl } from '../helpers/tls';


const test = anyTest as TestFn<{ environment: TlsEnvironment; database: TlsDatabase }>;


const internals = {
    async open(t: ExecutionContext, env: Env): Promise<Database> {

        const db = await createDatabase({ ...parseDatabaseConfig(env), timeoutMs: 5000 }, { log: silentKnexLogger() });
        t.teardown(() => db.destroy());
        return db;
    },

    /** What the first statement on a database opened with env fails with. */
    async refusal(t: ExecutionContext, env: Env): Promise<DatabaseTlsError> {

        const db = await internals.open(t, env);
        const error = await t.throwsAsync(db.knex.raw('select 1'), { instanceOf: DatabaseTlsError });
        t.false(error!.message.includes('\n'), error!.message);
        return error!;
    }
};


test.before(async (t) => {

    const environment = tlsEnvironment();
    t.context = { environment, database: await createTlsDatabase(environment) };
});

test.after.always(async (t) => {

    await t.context.database?.drop();
});


test('verify-full with the right CA: encrypted, as the server sees it too', async (t) => {

    const { database, environment } = t.context;
    const db = await internals.open(t, { DATABASE_URL: database.url, DATABASE_CA_FILE: environment.caFile });

    t.like(await db.security(), { encrypted: true });
    t.regex((await db.security())!.protocol!, /^TLSv1\.[23]$/);
    t.like(await serverTls(db), { ssl: true });
    t.deepEqual((await db.knex.raw('select count(*)::int as n from tasks')).rows, [{ n: 0 }]);
});

test('require and prefer verify as verify-full: the right CA connects, no CA is refused', async (t) => {

    const { database, environment } = t.context;
    for (const sslmode of ['require', 'prefer']) {
        const url = withUrl(database.url, { sslmode });
        const db = await internals.open(t, { DATABASE_URL: url, DATABASE_CA_FILE: environment.caFile });
        t.like(await serverTls(db), { ssl: true }, sslmode);

        const error = await internals.refusal(t, { DATABASE_URL: url });
        t.regex(error.message, /^the database server's certificate does not verify against the system's CAs \(.+\): set DATABASE_CA_FILE to the PEM file of the CA that signed it$/, sslmode);
    }
});

test('the wrong CA is refused, naming the CA file and the fix', async (t) => {

    const { database, environment } = t.context;
    const error = await internals.refusal(t, { DATABASE_URL: database.url, DATABASE_CA_FILE: environment.wrongCaFile });
    t.is(error.message, `the database server's certificate does not verify against DATABASE_CA_FILE ${environment.wrongCaFile} (${(error.cause as Error).message}): set DATABASE_CA_FILE to the PEM file of the CA that signed it`);

    // The URL's sslrootcert is the same CA file, and is said as such.
    const rootCert = new URL(database.url);
    rootCert.searchParams.set('sslrootcert', environment.wrongCaFile);
    t.regex((await internals.refusal(t, { DATABASE_URL: rootCert.toString() })).message, /against sslrootcert .*: set DATABASE_CA_FILE/);
});

test('a host name the certificate does not list: refused under verify-full, taken under verify-ca', async (t) => {

    const { database, environment } = t.context;
    const elsewhere = withUrl(database.url, { hostname: '127.0.0.2' });
    const error = await internals.refusal(t, { DATABASE_URL: elsewhere, DATABASE_CA_FILE: environment.caFile });
    t.regex(error.message, /^the database server's certificate is not for 127\.0\.0\.2 \(.+\): connect by a name the certificate lists, or set sslmode=verify-ca to verify its CA only$/);

    const chainOnly = await internals.open(t, { DATABASE_URL: withUrl(elsewhere, { sslmode: 'verify-ca' }), DATABASE_CA_FILE: environment.caFile });
    t.like(await serverTls(chainOnly), { ssl: true });
    await internals.refusal(t, { DATABASE_URL: withUrl(elsewhere, { sslmode: 'verify-ca' }), DATABASE_CA_FILE: environment.wrongCaFile });
});

test('no-verify encrypts without verifying; disable is refused by a server that wants TLS, with the fix', async (t) => {

    const { database } = t.context;
    const unverified = await internals.open(t, { DATABASE_URL: withUrl(database.url, { sslmode: 'no-verify' }) });
    t.like(await serverTls(unverified), { ssl: true });

    const error = await internals.refusal(t, { DATABASE_URL: withUrl(database.url, { sslmode: 'disable' }) });
    t.regex(error.message, /^the database server refuses connections without TLS \(.*no encryption\): add \?sslmode=verify-full to DATABASE_URL/);
});

test('the start\'s check: passes the right CA, throws for the wrong one, and lets a database that is down pass', async (t) => {

    const { database, environment } = t.context;
    await t.notThrowsAsync(checkDatabaseTls(parseDatabaseConfig({ DATABASE_URL: database.url, DATABASE_CA_FILE: environment.caFile })));
    await t.throwsAsync(checkDatabaseTls(parseDatabaseConfig({ DATABASE_URL: database.url, DATABASE_CA_FILE: environment.wrongCaFile })), { instanceOf: DatabaseTlsError });

    const down = new URL(database.url);
    down.port = '1';
    await t.notThrowsAsync(checkDatabaseTls(parseDatabaseConfig({ DATABASE_URL: down.toString(), DATABASE_CA_FILE: environment.wrongCaFile })));
});
