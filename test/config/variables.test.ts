import Fs from 'node:fs';
import Path from 'node:path';

import test from 'ava';

import type { Env, Name, Variable } from '../../src/config';
import { ConfigError, parseConfig, variables } from '../../src/config';


const root = Path.resolve(__dirname, '..', '..');
const ca = Path.join(root, 'test', 'fixtures', 'tls', 'ca.crt');


const internals = {
    // What every declared variable needs to be read at all: PostgreSQL (its pool and TLS) and a key set.
    context: {
        BETTER_AUTH_SECRET: 'a-secret-of-at-least-thirty-two-characters',
        DATABASE_URL: 'postgres://app@context.example.com/todo',
        BETTER_AUTH_URL: 'https://context.example.com'
    } as Env,

    // Variables of the system, not of this service's configuration, that the code reads.
    system: new Map([
        ['XDG_RUNTIME_DIR', 'where the embedded database\'s socket goes when the data directory\'s path is too long'],
        ['NODE_OPTIONS', 'node\'s own flags, which may set the young generation\'s size that V8_SEMI_SPACE_MB names']
    ]),

    entries(): [Name, Variable][] {

        return Object.entries(variables) as [Name, Variable][];
    },

    /** A valid value other than the default, from the declaration alone. */
    sample(variable: Variable): string {

        switch (variable.kind) {
            case 'integer':
                return String(variable.default < variable.max ? variable.default + 1 : variable.default - 1);
            case 'boolean':
                return String(!variable.default);
            case 'enum':
                return [...variable.values].reverse().find((value) => value !== variable.default)!;
            case 'secret':
                return 's'.repeat(variable.minLength);
            case 'file':
                return ca;
            case 'text':
                return variable.example ?? 'sample-text';
            default:
                return variable.example!;
        }
    },

    /** Values each kind refuses; none for plain text, which takes anything. */
    wrong(variable: Variable): string[] {

        switch (variable.kind) {
            case 'integer':
                return ['x', '1.5', '-1', String(variable.max + 1), ...(variable.min > 0 ? [String(variable.min - 1)] : [])];
            case 'boolean':
                return ['maybe', '2'];
            case 'enum':
                return ['not-one-of-them', variable.values[0]!.toUpperCase()];
            case 'secret':
                return ['s'.repeat(variable.minLength - 1), variable.placeholder];
            case 'url':
                return ['not a url', 'gopher://example.com', `${variable.protocols[0]}//`];
            case 'origins':
                return ['*', 'app.example.com', 'https://app.example.com/login'];
            case 'database-url':
                return ['mysql://root@localhost/todo', 'localhost:5432/todo', 'pglite://'];
            case 'file':
                return ['/nonexistent/file.pem', root];
            case 'text':
                return [];
        }
    },

    /** Every file of a directory, recursively, with the extensions given. */
    files(dir: string, extensions: string[]): string[] {

        return Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {

            const path = Path.join(dir, entry.name);
            return entry.isDirectory() ? internals.files(path, extensions) : extensions.some((extension) => entry.name.endsWith(extension)) ? [path] : [];
        });
    },

    /** The names of the environment variables a source reads: env.X, env['X'] and read(env, 'X'). */
    reads(source: string): string[] {

        const patterns = [
            /\benv\??\.([A-Z][A-Z0-9_]*)\b/g,
            /\benv\??\.?\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\]/g,
            /\bread\(\s*[\w.]+\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g
        ];

        return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]!));
    }
};


test('every declared variable is read: each one set alone to a valid value changes the configuration', (t) => {

    const base = parseConfig(internals.context);
    for (const [name, variable] of internals.entries()) {
        const value = internals.sample(variable);
        t.notDeepEqual(parseConfig({ ...internals.context, [name]: value }), base, `${name}=${value} leaves the configuration as it was`);
    }
});

test('every declared variable set at once to a valid value is taken', (t) => {

    const env = Object.fromEntries(internals.entries().map(([name, variable]) => [name, internals.sample(variable)]));
    t.notThrows(() => parseConfig(env));
});

test('every variable the code reads is declared, and every declared one is read', (t) => {

    const sources = [...internals.files(Path.join(root, 'src'), ['.ts']), ...internals.files(Path.join(root, 'cli'), ['.ts', '.cjs'])];
    const read = new Map<string, string>();
    for (const file of sources) {
        for (const name of internals.reads(Fs.readFileSync(file, 'utf8'))) {
            read.set(name, Path.relative(root, file));
        }
    }

    for (const [name, file] of read) {
        t.true(Object.hasOwn(variables, name) || internals.system.has(name), `${file} reads ${name}, which src/config/variables.ts does not declare`);
    }

    for (const name of Object.keys(variables)) {
        t.true(read.has(name), `${name} is declared but nothing reads it`);
    }
});

test('a value of the wrong kind or out of range is refused with one line naming the variable, for every declared kind', (t) => {

    const kinds = new Set<string>();
    for (const [name, variable] of internals.entries()) {
        const wrong = internals.wrong(variable);
        if (!wrong.length) {
            t.is(variable.kind, 'text', `${name} has no value it refuses`);
            continue;
        }

        kinds.add(variable.kind);
        for (const value of wrong) {
            const error = t.throws(() => parseConfig({ ...internals.context, [name]: value }), { instanceOf: ConfigError }, `${name}=${value}`);
            t.true(error?.message.startsWith(`${name} `), error?.message);
            t.false(error?.message.includes('\n'), error?.message);
            if (variable.kind === 'integer') {
                t.true(error?.message.includes(`from ${variable.min} to ${variable.max}`), `the range comes from the declaration: ${error?.message}`);
            }
        }
    }

    t.deepEqual([...kinds].sort(), ['boolean', 'database-url', 'enum', 'file', 'integer', 'origins', 'secret', 'url']);
});

test('the declared defaults are what an empty environment gives', (t) => {

    const config = parseConfig({ BETTER_AUTH_SECRET: internals.context.BETTER_AUTH_SECRET });
    t.is(config.port, variables.PORT.default);
    t.is(config.host, variables.HOST.default);
    t.is(config.workers, variables.WEB_CONCURRENCY.default);
    t.deepEqual(config.corsOrigins, [variables.CORS_ORIGINS.default]);
    t.deepEqual(config.database, { kind: 'pglite', dataDir: Path.resolve(variables.DATABASE_URL.default.slice('pglite://'.length)), timeoutMs: variables.DB_TIMEOUT_MS.default, queryTimeoutMs: variables.DB_QUERY_TIMEOUT_MS.default });
    t.is(config.auth.allowHs256, variables.JWT_ALLOW_HS256.default);
    t.is(config.logLevel, variables.LOG_LEVEL.default);
});
