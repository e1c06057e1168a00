import test from 'ava';

import type { TlsFacts } from '../../cli/commands/doctor';
import { tlsCheck } from '../../cli/commands/doctor';
import type { DatabaseTls } from '../../src/config';


const internals = {
    plain: { encrypted: false, protocol: null, cipher: null },
    encrypted: { encrypted: true, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    serverSide: { ssl: true, version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    caFile: { from: 'DATABASE_CA_FILE' as const, file: '/etc/todo/rds-ca.pem', pem: '' },

    facts(tls: Partial<DatabaseTls>, rest: Partial<TlsFacts>): TlsFacts {

        return {
            tls: { mode: 'verify-full', requested: 'sslmode=verify-full', ca: null, client: null, ...tls },
            host: 'db.example.com',
            security: internals.encrypted,
            server: internals.serverSide,
            ...rest
        };
    }
};


test('verified with the CA file, host name included: ok, and says so', (t) => {

    t.deepEqual(tlsCheck(internals.facts({ ca: internals.caFile }, {})), {
        check: 'tls',
        status: 'ok',
        detail: 'encrypted (TLSv1.3, TLS_AES_256_GCM_SHA384); the server\'s certificate verified against DATABASE_CA_FILE /etc/todo/rds-ca.pem, for the host db.example.com (sslmode=verify-full)'
    });
    t.regex(tlsCheck(internals.facts({}, {})).detail, /verified against the system's CAs, for the host db\.example\.com/);
});

test('verify-ca: ok, the host name not checked', (t) => {

    const check = tlsCheck(internals.facts({ mode: 'verify-ca', requested: 'sslmode=verify-ca', ca: internals.caFile }, {}));
    t.is(check.status, 'ok');
    t.regex(check.detail, /verified against DATABASE_CA_FILE \/etc\/todo\/rds-ca\.pem, its host name not checked \(sslmode=verify-ca\)$/);
});

test('sslmode=require: verified, and a warning to write verify-full', (t) => {

    const check = tlsCheck(internals.facts({ requested: 'sslmode=require' }, {}));
    t.is(check.status, 'warn');
    t.regex(check.detail, /\(sslmode=require, taken as verify-full\)$/);
    t.regex(check.fix!, /^write sslmode=verify-full in DATABASE_URL/);
});

test('a database on another machine without TLS, or without verifying it, warns; on this machine it is ok', (t) => {

    const plain = tlsCheck(internals.facts({ mode: 'disable', requested: null }, { security: internals.plain, server: { ssl: false, version: null, cipher: null } }));
    t.like(plain, { status: 'warn', detail: 'not encrypted: passwords and data cross the network to db.example.com in the clear' });
    t.regex(plain.fix!, /sslmode=verify-full.*DATABASE_CA_FILE/);

    const unverified = tlsCheck(internals.facts({ mode: 'no-verify', requested: 'sslmode=no-verify' }, {}));
    t.is(unverified.status, 'warn');
    t.regex(unverified.detail, /^encrypted \(TLSv1\.3, .*\); the server is not verified \(sslmode=no-verify\): whoever sits in between can pose as it$/);

    for (const host of ['127.0.0.1', 'localhost', '::1', '']) {
        t.like(tlsCheck(internals.facts({ mode: 'disable', requested: null }, { host, security: internals.plain })), { status: 'ok' }, host);
        t.like(tlsCheck(internals.facts({ mode: 'no-verify', requested: 'sslmode=no-verify' }, { host })), { status: 'ok' }, host);
    }

    t.is(tlsCheck(internals.facts({ mode: 'disable', requested: null }, { host: '127.0.0.1', security: internals.plain })).detail, 'not encrypted: the database is on this machine (127.0.0.1)');
});

test('behind something that ends TLS, the server\'s own unencrypted connection is told', (t) => {

    const check = tlsCheck(internals.facts({}, { server: { ssl: false, version: null, cipher: null } }));
    t.is(check.status, 'ok');
    t.regex(check.detail, /^encrypted \(TLSv1\.3, TLS_AES_256_GCM_SHA384\); .*; the server sees its own connection unencrypted \(pg_stat_ssl\): something in between ends TLS$/);
});
