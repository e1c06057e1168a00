import Fs from 'node:fs';
import Path from 'node:path';

import test from 'ava';


const root = Path.resolve(__dirname, '..', '..');


const internals = {
    importRx: /^\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'|^\s*import\s+'(\.{1,2}\/[^']+)'/gm,

    files(dir: string): string[] {

        return Fs.readdirSync(dir, { withFileTypes: true, recursive: true })
            .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
            .map((entry) => Path.join(entry.parentPath, entry.name));
    },

    /** The module a relative import names: FILE.ts or FILE/index.ts; null for anything else (a .json, a .lua). */
    resolve(from: string, spec: string): string | null {

        const base = Path.resolve(Path.dirname(from), spec);
        for (const file of [`${base}.ts`, Path.join(base, 'index.ts')]) {
            if (Fs.existsSync(file)) {
                return file;
            }
        }

        return null;
    },

    /** Each module's relative imports, type-only ones included: a cycle of types is still a cycle to read. */
    graph(files: string[]): Map<string, string[]> {

        const graph = new Map<string, string[]>();
        for (const file of files) {
            const text = Fs.readFileSync(file, 'utf8');
            const imports = [...text.matchAll(internals.importRx)].map((match) => internals.resolve(file, match[1] ?? match[2]));
            graph.set(file, [...new Set(imports.filter((found): found is string => found !== null))]);
        }

        return graph;
    },

    /** Every cycle found by a depth-first walk, each as the modules around it, relative to the root. */
    cycles(graph: Map<string, string[]>): string[] {

        const found: string[] = [];
        const done = new Set<string>();
        const path: string[] = [];
        const visit = (file: string) => {

            const at = path.indexOf(file);
            if (at !== -1) {
                found.push([...path.slice(at), file].map((step) => Path.relative(root, step)).join(' -> '));
                return;
            }

            if (done.has(file)) {
                return;
            }

            path.push(file);
            for (const next of graph.get(file) ?? []) {
                visit(next);
            }

            path.pop();
            done.add(file);
        };

        for (const file of graph.keys()) {
            visit(file);
        }

        return found;
    }
};


test('no module of bench/, src/ or scripts/ imports itself through others', (t) => {

    const files = ['bench', 'src', 'scripts'].flatMap((dir) => internals.files(Path.join(root, dir)));
    t.true(files.length > 50);
    t.deepEqual(internals.cycles(internals.graph(files)), []);
});

test('the check finds a cycle, type-only imports included', (t) => {

    const a = Path.join(root, 'bench', 'a.ts');
    const b = Path.join(root, 'bench', 'b.ts');
    const c = Path.join(root, 'bench', 'c.ts');
    const graph = new Map([[a, [b]], [b, [c]], [c, [a]]]);
    t.deepEqual(internals.cycles(graph), ['bench/a.ts -> bench/b.ts -> bench/c.ts -> bench/a.ts']);

    const load = 'import type { Measurement } from \'./load\';\nexport { progress } from \'./cli\';\n';
    t.deepEqual([...load.matchAll(internals.importRx)].map((match) => match[1]), ['./load', './cli']);
});
