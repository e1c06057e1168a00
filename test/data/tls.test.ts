import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';
import Pg from 'pg';

import type { DatabaseConfig, Env } from '../../src/config';
import { ConfigError, parseDatabaseConfig } from '../../src/config';
import { postgresConnection } from '../../src/data/postgres-tls';


const url = 'postgres://app:pw@db.example.com:5432/todo';
const ca = Path.resolve(__dirname, '..', 'fixtures', 'tls', 'ca.crt');


const internals = {

    postgres(env: Env): Extract<DatabaseConfig, { kind: 'postgres' }> {

        const config = parseDatabaseConfig(env);
        if (config.kind !== 'postgres') {
            throw new Error(`not PostgreSQL: ${JSON.stringify(config)}`);
        }

        return config;
    },

    /** A file of the test's own, removed when it ends. */
    file(t: { teardown(fn: () => void): void }, name: string, content: string | Buffer): string {

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-api-tls-'));
        t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
        const file = Path.join(dir, name);
        Fs.writeFileSync(file, content);
        return file;
    }
};


const maps = test.macro({
    exec(t, target: string, env: Env, expected: { mode: 'disable' | 'no-verify' | 'verify-ca' | 'verify-full'; requested: string | null; ca: 'DATABASE_CA_FILE' | 'sslrootcert' | null; hostName: boolean }) {

        const config = internals.postgres({ DATABASE_URL: target, ...env });
        t.is(config.tls?.mode, expected.mode);
        t.is(config.tls?.requested, expected.requested);
        t.is(config.tls?.ca?.from ?? null, expected.ca);

        const { ssl } = postgresConnection(config).connection;
        if (expected.mode === 'disable') {
            t.false(ssl);
            return;
        }

        if (typeof ssl !== 'object') {
            return t.fail(`pg is given ssl: ${ssl}`);
        }

        t.is(ssl.rejectUnauthorized, expected.mode !== 'no-verify');
        t.is(ssl.ca, expected.ca ? Fs.readFileSync(ca, 'utf8') : undefined);
        // Node checks the host name unless checkServerIdentity says otherwise; verify-ca's accepts any (under no-verify
        // nothing is enforced).
        if (expected.mode !== 'no-verify') {
            t.is(ssl.checkServerIdentity === undefined, expected.hostName);
        }

        if (ssl.checkServerIdentity) {
            t.is(ssl.checkServerIdentity('db.example.com', {} as never), undefined);
        }
    },
    title: (provided, target: string, env: Env) => `${provided}: ${target}${Object.keys(env).length ? ` with ${Object.entries(env).map(([name, value]) => `${name}=${value}`).join(' ')}` : ''}`
});

test('no sslmode is no TLS', maps, url, {}, { mode: 'disable', requested: null, ca: null, hostName: false });
test('disable is no TLS', maps, `${url}?sslmode=disable`, {}, { mode: 'disable', requested: 'sslmode=disable', ca: null, hostName: false });
test('verify-full verifies the chain against the system\'s CAs, and the host name', maps, `${url}?sslmode=verify-full`, {}, { mode: 'verify-full', requested: 'sslmode=verify-full', ca: null, hostName: true });
test('verify-full with DATABASE_CA_FILE verifies against that CA', maps, `${url}?sslmode=verify-full`, { DATABASE_CA_FILE: ca }, { mode: 'verify-full', requested: 'sslmode=verify-full', ca: 'DATABASE_CA_FILE', hostName: true });
test('require is verified as verify-full', maps, `${url}?sslmode=require`, {}, { mode: 'verify-full', requested: 'sslmode=require', ca: null, hostName: true });
test('prefer is verified as verify-full', maps, `${url}?sslmode=prefer`, { DATABASE_CA_FILE: ca }, { mode: 'verify-full', requested: 'sslmode=prefer', ca: 'DATABASE_CA_FILE', hostName: true });
test('verify-ca verifies the chain only', maps, `${url}?sslmode=verify-ca`, { DATABASE_CA_FILE: ca }, { mode: 'verify-ca', requested: 'sslmode=verify-ca', ca: 'DATABASE_CA_FILE', hostName: false });
test('the URL\'s sslrootcert is a CA file too', maps, `${url}?sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`, {}, { mode: 'verify-ca', requested: 'sslmode=verify-ca', ca: 'sslrootcert', hostName: false });
test('sslrootcert=system is the system\'s CAs', maps, `${url}?sslmode=verify-full&sslrootcert=system`, {}, { mode: 'verify-full', requested: 'sslmode=verify-full', ca: null, hostName: true });
test('no-verify encrypts and verifies nothing', maps, `${url}?sslmode=no-verify`, {}, { mode: 'no-verify', requested: 'sslmode=no-verify', ca: null, hostName: false });
test('a CA with no sslmode is verify-full', maps, url, { DATABASE_CA_FILE: ca }, { mode: 'verify-full', requested: null, ca: 'DATABASE_CA_FILE', hostName: true });
test('pg\'s ssl=true is verify-full', maps, `${url}?ssl=true`, {}, { mode: 'verify-full', requested: 'ssl=true', ca: null, hostName: true });
test('pg\'s ssl=0 is no TLS', maps, `${url}?ssl=0`, {}, { mode: 'disable', requested: 'ssl=0', ca: null, hostName: false });
test('pg\'s ssl=no-verify', maps, `${url}?ssl=no-verify`, {}, { mode: 'no-verify', requested: 'ssl=no-verify', ca: null, hostName: false });
test('PGSSLMODE when the URL says nothing', maps, url, { PGSSLMODE: 'require' }, { mode: 'verify-full', requested: 'PGSSLMODE=require', ca: null, hostName: true });
test('the URL\'s sslmode over PGSSLMODE', maps, `${url}?sslmode=disable`, { PGSSLMODE: 'verify-full' }, { mode: 'disable', requested: 'sslmode=disable', ca: null, hostName: false });
test('libpq\'s require (uselibpqcompat) verifies nothing', maps, `${url}?sslmode=require&uselibpqcompat=true`, {}, { mode: 'no-verify', requested: 'sslmode=require', ca: null, hostName: false });
test('libpq\'s require with a CA verifies the chain', maps, `${url}?sslmode=require&uselibpqcompat=true`, { DATABASE_CA_FILE: ca }, { mode: 'verify-ca', requested: 'sslmode=require', ca: 'DATABASE_CA_FILE', hostName: false });


test('pg is given the URL less its TLS parameters, and takes the TLS options as they are, with no warning', async (t) => {

    const warnings: string[] = [];
    const listener = (warning: Error) => warnings.push(warning.message);
    process.on('warning', listener);
    t.teardown(() => process.off('warning', listener));

    for (const sslmode of ['require', 'prefer', 'verify-ca', 'verify-full', 'no-verify', 'disable']) {
        const rootCert = sslmode === 'disable' ? '' : `&sslrootcert=${encodeURIComponent(ca)}`;
        const { connection } = postgresConnection(internals.postgres({ DATABASE_URL: `${url}?application_name=todo&sslmode=${sslmode}${rootCert}` }));
        t.is(connection.connectionString, `${url}?application_name=todo`);

        // What pg makes of it: the options given, not its own reading of an sslmode.
        const client = new Pg.Client(connection) as Pg.Client & { connectionParameters: { ssl: unknown; host: string; database: string; application_name: string } };
        t.is(client.connectionParameters.ssl, connection.ssl);
        t.like(client.connectionParameters, { host: 'db.example.com', database: 'todo', application_name: 'todo' });
    }

    await new Promise((resolve) => setImmediate(resolve));
    t.deepEqual(warnings, []);
});

test('a URL that says nothing of TLS reaches pg as it is', (t) => {

    const plain = 'postgres://app:p%40ss@db.example.com:5432/todo?application_name=todo';
    t.is(postgresConnection(internals.postgres({ DATABASE_URL: plain })).connection.connectionString, plain);
});

test('a configuration made without parseDatabaseConfig reads the URL\'s sslmode', (t) => {

    const { connection, tls } = postgresConnection({ kind: 'postgres', url: `${url}?sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`, poolMax: 1, timeoutMs: 1000, queryTimeoutMs: 0 });
    t.is(tls.mode, 'verify-ca');
    t.like(connection.ssl, { rejectUnauthorized: true });
});


const refused = test.macro({
    exec(t, env: Env | ((t: Parameters<typeof internals.file>[0]) => Env), variable: string, says: RegExp) {

        const error = t.throws(() => parseDatabaseConfig(typeof env === 'function' ? env(t) : env), { instanceOf: ConfigError });
        t.true(error!.message.startsWith(`${variable} `), error!.message);
        t.false(error!.message.includes('\n'), error!.message);
        t.regex(error!.message, says);
    },
    title: (provided) => `refused: ${provided}`
});

test('a DATABASE_CA_FILE that does not exist', refused, { DATABASE_URL: `${url}?sslmode=verify-full`, DATABASE_CA_FILE: '/nonexistent/ca.pem' }, 'DATABASE_CA_FILE', /^DATABASE_CA_FILE cannot be read: \/nonexistent\/ca\.pem \(no such file\)$/);
test('a DATABASE_CA_FILE that is a directory', refused, { DATABASE_URL: `${url}?sslmode=verify-full`, DATABASE_CA_FILE: Os.tmpdir() }, 'DATABASE_CA_FILE', /cannot be read: .* \(a directory\)$/);
test('a DATABASE_CA_FILE that is not PEM', refused, (t) => ({ DATABASE_URL: `${url}?sslmode=verify-full`, DATABASE_CA_FILE: internals.file(t, 'ca.der', Buffer.from([0x30, 0x82, 0x01, 0x93, 0x30])) }), 'DATABASE_CA_FILE', /is not a PEM file of CA certificates: .*ca\.der holds no -----BEGIN CERTIFICATE----- block/);
test('a DATABASE_CA_FILE holding only a key', refused, (t) => ({ DATABASE_URL: `${url}?sslmode=verify-full`, DATABASE_CA_FILE: internals.file(t, 'ca.key', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n') }), 'DATABASE_CA_FILE', /is not a PEM file of CA certificates/);
test('a DATABASE_CA_FILE with a broken certificate', refused, (t) => ({
    DATABASE_URL: `${url}?sslmode=verify-full`,
    DATABASE_CA_FILE: internals.file(t, 'ca.pem', Fs.readFileSync(ca, 'utf8') + '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n')
}), 'DATABASE_CA_FILE', /holds a certificate that does not parse: .*ca\.pem, certificate 2 of 2$/);
test('an sslrootcert that does not exist', refused, { DATABASE_URL: `${url}?sslmode=verify-full&sslrootcert=/nonexistent/root.crt` }, 'DATABASE_URL\'s sslrootcert', /cannot be read: \/nonexistent\/root\.crt \(no such file\)$/);
test('both DATABASE_CA_FILE and sslrootcert', refused, { DATABASE_URL: `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`, DATABASE_CA_FILE: ca }, 'DATABASE_CA_FILE', /both name the CA/);
test('verify-ca without a CA', refused, { DATABASE_URL: `${url}?sslmode=verify-ca` }, 'DATABASE_URL', /needs the CA .*: set DATABASE_CA_FILE/);
test('verify-ca with the system\'s CAs', refused, { DATABASE_URL: `${url}?sslmode=verify-ca&sslrootcert=system` }, 'DATABASE_URL', /set DATABASE_CA_FILE/);
test('a CA file and sslmode=disable', refused, { DATABASE_URL: `${url}?sslmode=disable`, DATABASE_CA_FILE: ca }, 'DATABASE_URL', /sslmode=disable, but DATABASE_CA_FILE is set/);
test('sslmode=allow', refused, { DATABASE_URL: `${url}?sslmode=allow` }, 'DATABASE_URL', /sslmode=allow, which is not taken here: use sslmode=verify-full/);
test('an unknown sslmode', refused, { DATABASE_URL: `${url}?sslmode=verify` }, 'DATABASE_URL', /sslmode=verify, which is not taken here/);
test('an unknown PGSSLMODE', refused, { DATABASE_URL: url, PGSSLMODE: 'on' }, 'PGSSLMODE', /^PGSSLMODE must be one of disable, prefer, require, verify-ca, verify-full, no-verify, not "on"$/);
test('an sslcert without its key', refused, { DATABASE_URL: `${url}?sslmode=verify-full&sslcert=${encodeURIComponent(ca)}` }, 'DATABASE_URL', /sslcert without sslkey/);
