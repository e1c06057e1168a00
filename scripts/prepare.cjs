'use strict';

// npm install's build step. With the dev dependencies it runs npm run build. Without them (npm ci --omit=dev, a
// production install of a tree built beforehand) there is no TypeScript to compile with: dist/ is used as it was
// built, and only the embedded database's template, kept under node_modules/ that the install has just replaced,
// is made again.

const ChildProcess = require('node:child_process');
const Fs = require('node:fs');
const Path = require('node:path');

const root = Path.join(__dirname, '..');

const run = (command, args) => {

    const result = ChildProcess.spawnSync(command, args, { cwd: root, stdio: 'inherit' });
    process.exitCode = result.status ?? 1;
};

let typescript = true;
try {
    require.resolve('typescript', { paths: [root] });
}
catch {
    typescript = false;
}

if (typescript) {
    run('npm', ['run', 'build']);
}
else if (Fs.existsSync(Path.join(root, 'dist', 'src', 'index.js')) && Fs.existsSync(Path.join(root, 'dist', 'cli', 'main.js'))) {
    process.stderr.write('prepare: TypeScript is not installed (the dev dependencies were left out): dist/ is used as it was built\n');
    run(process.execPath, [Path.join(root, 'dist', 'src', 'data', 'embedded-template.js')]);
}
else {
    process.stderr.write('prepare: dist/ is missing and TypeScript is not installed: install with the dev dependencies (npm ci), ' +
        'or run npm run build before installing without them\n');
    process.exitCode = 1;
}
