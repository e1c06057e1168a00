import ChildProcess from 'node:child_process';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import { variables } from '../../src/config';
import { checkConfigDocs, envExample, keyTable, referenceTables, writeConfigDocs } from '../../scripts/config-docs';


const root = Path.resolve(__dirname, '..', '..');
const script = Path.join(root, 'scripts', 'config-docs.ts');
const generated = ['docs/configuration.md', 'README.md', '.env.example', 'package.json'];


const internals = {
    /** A copy of the generated files in a directory of the test's own, removed when it ends. */
    checkout(t: { teardown(fn: () => void): void }): string {

        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-config-docs-'));
        t.teardown(() => Fs.rmSync(dir, { recursive: true, force: true }));
        for (const file of generated) {
            Fs.mkdirSync(Path.dirname(Path.join(dir, file)), { recursive: true });
            Fs.copyFileSync(Path.join(root, file), Path.join(dir, file));
        }

        return dir;
    },

    check(dir: string): ChildProcess.SpawnSyncReturns<string> {

        return ChildProcess.spawnSync(process.execPath, ['--import', 'tsx', script, '--check', dir], { cwd: root, encoding: 'utf8' });
    }
};


test('the files in the repository are what the declaration gives', (t) => {

    t.is(checkConfigDocs(root), null);
});

test('a stale file fails the check with one line naming it and the command; gen:config makes it current again', (t) => {

    const dir = internals.checkout(t);
    t.is(checkConfigDocs(dir), null);

    Fs.appendFileSync(Path.join(dir, '.env.example'), '# PORT=9000\n');
    t.is(checkConfigDocs(dir), '.env.example is stale: run npm run gen:config');

    const reference = Path.join(dir, 'docs', 'configuration.md');
    Fs.writeFileSync(reference, Fs.readFileSync(reference, 'utf8').replace('| `PORT` | `8000` |', '| `PORT` | `8080` |'));
    t.is(checkConfigDocs(dir), 'docs/configuration.md and .env.example are stale: run npm run gen:config');

    const cli = internals.check(dir);
    t.is(cli.status, 1);
    t.is(cli.stderr, 'check:config: docs/configuration.md and .env.example are stale: run npm run gen:config\n');

    t.deepEqual(writeConfigDocs(dir), ['docs/configuration.md', '.env.example']);
    t.is(checkConfigDocs(dir), null);
    t.is(internals.check(dir).status, 0);
});

test('package.json\'s start script passes V8_SEMI_SPACE_MB to node with the declared default', (t) => {

    const dir = internals.checkout(t);
    const pkg = Path.join(dir, 'package.json');
    const declared = `--max-semi-space-size=\${V8_SEMI_SPACE_MB:-${variables.V8_SEMI_SPACE_MB.default}}`;
    const start = () => JSON.parse(Fs.readFileSync(pkg, 'utf8')).scripts.start as string;
    t.true(start().includes(declared));

    Fs.writeFileSync(pkg, Fs.readFileSync(pkg, 'utf8').replace(declared, '--max-semi-space-size=${V8_SEMI_SPACE_MB:-99}'));
    t.is(checkConfigDocs(dir), 'package.json is stale: run npm run gen:config');
    t.deepEqual(writeConfigDocs(dir), ['package.json']);
    t.true(start().includes(declared));

    Fs.writeFileSync(pkg, Fs.readFileSync(pkg, 'utf8').replace(declared, '--max-semi-space-size=64'));
    t.regex(checkConfigDocs(dir) ?? '', /^package\.json's start script must pass --max-semi-space-size=\$\{V8_SEMI_SPACE_MB:-N\} to node/);
});

test('a file that lost its markers says where the table goes', (t) => {

    const dir = internals.checkout(t);
    const readme = Path.join(dir, 'README.md');
    Fs.writeFileSync(readme, Fs.readFileSync(readme, 'utf8').replace(/<!-- End of the generated table. -->/, ''));

    const problem = checkConfigDocs(dir);
    t.regex(problem ?? '', /^README\.md has lost the markers of its generated table .*: put them back where the table goes, then run npm run gen:config$/);
    t.false(problem?.includes('\n'));
    t.throws(() => writeConfigDocs(dir), { message: /README\.md has lost the markers/ });
});

test('every variable is in the reference and .env.example; the key ones in the README; the placeholder secret is live', (t) => {

    const reference = referenceTables();
    const example = envExample();
    for (const [name, variable] of Object.entries(variables)) {
        t.true(reference.includes(`| \`${name}\` |`), name);
        t.regex(example, new RegExp(`^#? ?${name}=`, 'm'), name);
        t.is(keyTable().includes(`| \`${name}\` |`), 'key' in variable, name);
    }

    t.regex(example, new RegExp(`^BETTER_AUTH_SECRET=${variables.BETTER_AUTH_SECRET.placeholder}$`, 'm'));
    t.deepEqual(example.split('\n').filter((line) => /^[A-Z]/.test(line)), [`BETTER_AUTH_SECRET=${variables.BETTER_AUTH_SECRET.placeholder}`], 'every other line is commented out');
    t.true(example.indexOf('BETTER_AUTH_SECRET=') < example.indexOf('# HOST='), 'the required ones first');
});
