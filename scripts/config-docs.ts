/**
 * npm run gen:config writes what the declaration of the variables (src/config/variables.ts) says to its readers:
 * the reference tables of docs/configuration.md, the README's table of the key settings (each between its markers,
 * the prose around them written by hand), the whole of .env.example, and the default of V8_SEMI_SPACE_MB in
 * package.json's start script (which passes the variable to node before any of the service runs). npm run
 * check:config (part of npm test) writes nothing and fails, naming the stale files, when any of them differs from
 * what it would write.
 */
import Fs from 'node:fs';
import Path from 'node:path';

import type { Group, Name, Variable } from '../src/config';
import { booleanWords, groups, variables } from '../src/config';


/** A file that is, or holds, text generated from the declaration. */
export interface Target {
    file: string;
    /** What the file must hold, given what it holds now (for a file that is generated only in part). */
    expected(current: string | null): string;
}


/** A file whose generated text is missing, or whose markers are. */
export class StaleError extends Error {}


const internals = {
    command: 'npm run gen:config',
    width: 118,
    begin: '<!-- Generated from src/config/variables.ts by npm run gen:config: edit the declaration, not this table. -->',
    end: '<!-- End of the generated table. -->',

    entries(): [Name, Variable][] {

        return Object.entries(variables) as [Name, Variable][];
    },

    /** What leaving the variable unset means, in Markdown. */
    defaultText(variable: Variable): string {

        switch (variable.kind) {
            case 'origins':
                return `\`${variable.default}\`; ${variable.productionDefault ? `\`${variable.productionDefault}\`` : 'none'} with \`NODE_ENV=production\``;
            case 'secret':
            case 'file':
            case 'url':
                return variable.unset ?? 'unset';
            default:
                if (variable.default === null) {
                    return variable.unset ?? 'unset';
                }

                return `\`${variable.default}\`` + (variable.unset ? `: ${variable.unset}` : '');
        }
    },

    /** The values taken, in Markdown: a range, the words, or the form. */
    values(variable: Variable): string {

        switch (variable.kind) {
            case 'integer':
                return `\`${variable.min}\` to \`${variable.max}\`${variable.auto ? ', or `auto`' : ''}`;
            case 'boolean':
                return `\`true\` or \`false\` (or ${booleanWords.true.slice(1).map((word, n) => `\`${word}\`/\`${booleanWords.false[n + 1]}\``).join(', ')})`;
            case 'enum':
                return variable.values.map((value) => `\`${value}\``).join(', ');
            case 'text':
                return 'text';
            case 'secret':
                return `at least ${variable.minLength} characters`;
            case 'url':
                return `${variable.protocols.map((protocol) => `\`${protocol}//\``).join(' or ')} URL`;
            case 'origins':
                return 'comma-separated origins';
            case 'database-url':
                return '`postgres://`, `postgresql://` or `pglite://` URL';
            case 'file':
                return 'a file\'s path';
        }
    },

    cell(text: string): string {

        return text.replace(/\|/g, '\\|');
    },

    table(entries: [Name, Variable][], columns: 'reference' | 'key'): string {

        const header = columns === 'reference' ? '| variable | default | values | meaning |\n|---|---|---|---|' : '| variable | default | meaning |\n|---|---|---|';
        const rows = entries.map(([name, variable]) => {

            const cells = columns === 'reference' ?
                [`\`${name}\``, internals.defaultText(variable), internals.values(variable), variable.meaning] :
                [`\`${name}\``, internals.defaultText(variable), variable.meaning];

            return `| ${cells.map(internals.cell).join(' | ')} |`;
        });

        return [header, ...rows].join('\n');
    },

    /** Replaces what lies between the markers of a file generated in part. */
    between(file: string, current: string | null, generated: string): string {

        const begin = current?.indexOf(internals.begin) ?? -1;
        const end = current?.indexOf(internals.end) ?? -1;
        if (current === null || begin === -1 || end < begin) {
            throw new StaleError(`${file} has lost the markers of its generated table (${internals.begin} ... ${internals.end}): put them back where the table goes, then run ${internals.command}`);
        }

        return current.slice(0, begin + internals.begin.length) + '\n\n' + generated + '\n\n' + current.slice(end);
    },

    // The start script's use of V8_SEMI_SPACE_MB: the shell's own default stands in for the declaration's.
    semiSpaceRx: /--max-semi-space-size=\$\{V8_SEMI_SPACE_MB:-\d+\}/,

    /** package.json with the start script's default of V8_SEMI_SPACE_MB the declared one (the rest as it is). */
    startScript(current: string | null): string {

        if (current === null || !internals.semiSpaceRx.test(current)) {
            throw new StaleError(`package.json's start script must pass --max-semi-space-size=\${V8_SEMI_SPACE_MB:-N} to node: put it back, then run ${internals.command}`);
        }

        return current.replace(internals.semiSpaceRx, `--max-semi-space-size=\${V8_SEMI_SPACE_MB:-${variables.V8_SEMI_SPACE_MB.default}}`);
    },

    /** Markdown as .env.example's comments: no code marks, wrapped. */
    comment(text: string): string[] {

        const lines: string[] = [];
        let line = '#';
        for (const word of text.replace(/`/g, '').split(/\s+/)) {
            if (line.length + 1 + word.length > internals.width && line !== '#') {
                lines.push(line);
                line = '#';
            }

            line += ` ${word}`;
        }

        return [...lines, line];
    },

    envEntry(name: Name, variable: Variable): string[] {

        if (variable.kind === 'secret') {
            return [
                ...internals.comment(`${variable.meaning} At least ${variable.minLength} characters, required ${variable.required}. The placeholder below is refused on purpose: a copied example must not become a real secret.`),
                `${name}=${variable.placeholder}`
            ];
        }

        const shown = variable.example ?? String(variable.default ?? '');
        const values = variable.kind === 'text' ? '' : ` Values: ${internals.values(variable)}.`;
        const unset = variable.example !== undefined && variable.default !== null ? ` Unset: ${internals.defaultText(variable)}.` : '';
        return [...internals.comment(`${variable.meaning}${values}${unset}`), `# ${name}=${shown}`];
    }
};


/** docs/configuration.md's tables: one per group, every variable, with its default, values and meaning. */
export function referenceTables(): string {

    return Object.entries(groups).map(([group, title]) => {

        const entries = internals.entries().filter(([, variable]) => variable.group === group as Group);
        return `### ${title}\n\n${internals.table(entries, 'reference')}`;
    }).join('\n\n');
}


/** The README's table: the few settings most deployments set, the required ones first. */
export function keyTable(): string {

    const entries = internals.entries().filter(([, variable]) => variable.key);
    const required = entries.filter(([, variable]) => variable.required);
    return internals.table([...required, ...entries.filter(([, variable]) => !variable.required)], 'key');
}


/** .env.example: every variable, the required ones first, then by group; the optional ones commented out. */
export function envExample(): string {

    const entries = internals.entries();
    const required = entries.filter(([, variable]) => variable.required);
    const sections = [
        [
            ...internals.comment('todo-api and todo-admin read these variables from the environment, or from a .env file in the working directory (real environment variables win): copy this file to .env and set what differs (docs/configuration.md says more).'),
            '# Generated from src/config/variables.ts by npm run gen:config: edit the declaration, not this file.'
        ],
        ['# --- Required ---', ...required.flatMap(([name, variable]) => internals.envEntry(name, variable))],
        ...Object.entries(groups).map(([group, title]) => [
            `# --- ${title} ---`,
            ...entries.filter(([, variable]) => variable.group === group as Group && !variable.required).flatMap(([name, variable]) => internals.envEntry(name, variable))
        ])
    ];

    return sections.map((lines) => lines.join('\n')).join('\n\n') + '\n';
}


/** Every file the declaration is written to, under root. */
export function targets(root: string): Target[] {

    return [
        { file: Path.join(root, 'docs', 'configuration.md'), expected: (current) => internals.between('docs/configuration.md', current, referenceTables()) },
        { file: Path.join(root, 'README.md'), expected: (current) => internals.between('README.md', current, keyTable()) },
        { file: Path.join(root, '.env.example'), expected: () => envExample() },
        { file: Path.join(root, 'package.json'), expected: (current) => internals.startScript(current) }
    ];
}


/** The files that differ from what the declaration gives, as one line saying so and how to fix it; null when none. */
export function checkConfigDocs(root: string, list = targets(root)): string | null {

    const stale: string[] = [];
    for (const target of list) {
        const current = Fs.existsSync(target.file) ? Fs.readFileSync(target.file, 'utf8') : null;
        try {
            if (target.expected(current) !== current) {
                stale.push(Path.relative(root, target.file));
            }
        }
        catch (err) {
            if (err instanceof StaleError) {
                return err.message;
            }

            throw err;
        }
    }

    return stale.length ? `${stale.join(' and ')} ${stale.length > 1 ? 'are' : 'is'} stale: run ${internals.command}` : null;
}


/** Writes each file that differs; returns the ones written. */
export function writeConfigDocs(root: string, list = targets(root)): string[] {

    const written: string[] = [];
    for (const target of list) {
        const current = Fs.existsSync(target.file) ? Fs.readFileSync(target.file, 'utf8') : null;
        const expected = target.expected(current);
        if (expected !== current) {
            Fs.writeFileSync(target.file, expected);
            written.push(Path.relative(root, target.file));
        }
    }

    return written;
}


// npm run gen:config [-- DIR], npm run check:config [-- DIR]: DIR is the checkout, this one when not given.
if (require.main === module) {
    const root = Path.resolve(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? Path.join(__dirname, '..'));
    try {
        if (process.argv.includes('--check')) {
            const problem = checkConfigDocs(root);
            console[problem ? 'error' : 'log'](`check:config: ${problem ?? 'docs/configuration.md, README.md, .env.example and package.json\'s start script match src/config/variables.ts'}`);
            process.exitCode = problem ? 1 : 0;
        }
        else {
            const written = writeConfigDocs(root);
            console.log(`gen:config: ${written.length ? `wrote ${written.join(', ')}` : 'nothing to write'}`);
        }
    }
    catch (err) {
        console.error(`config-docs: ${err instanceof Error ? err.message : err}`);
        process.exitCode = 1;
    }
}
