#!/usr/bin/env node
'use strict';

// The operators' toolkit, run from its compiled JavaScript (dist/cli), as `npm start` runs the server's.

const Fs = require('node:fs');
const Path = require('node:path');

const internals = {
    root: Path.join(__dirname, '..'),

    /** The newest modification time of the TypeScript files under dir. */
    newest(dir) {

        let newest = 0;
        for (const entry of Fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
            if (entry.isFile() && entry.name.endsWith('.ts')) {
                newest = Math.max(newest, Fs.statSync(Path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
            }
        }

        return newest;
    }
};


const entry = Path.join(internals.root, 'dist', 'cli', 'main.js');
if (!Fs.existsSync(entry)) {
    process.stderr.write('todo-admin: dist/cli/main.js is missing: run npm run build\n');
    process.exit(1);
}

// A checkout whose sources changed since the build runs the code of the build: said, not refused.
const sources = ['src', 'cli', 'migrations', 'seeds'].map((dir) => Path.join(internals.root, dir)).filter((dir) => Fs.existsSync(dir));
if (Math.max(0, ...sources.map(internals.newest)) > Fs.statSync(entry).mtimeMs) {
    process.stderr.write('todo-admin: the sources are newer than dist/, which runs as it was built: run npm run build\n');
}

require(entry).main(process.argv.slice(2)).then((code) => {

    process.exitCode = code;
});
