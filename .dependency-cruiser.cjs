'use strict';

// Which module may import which (npm run lint:imports, part of npm test). Type-only imports count: a type that
// runs upward ties the layers together as much as a value does.
//
// From the bottom up: src/common and src/generated; the configuration, the logger and the private-file checks;
// schemas/ and auth/ beside each other; data/; then what builds the server from them (routes/, extensions/,
// rate-limits/, plugin.ts, server.ts, index.ts, workers.ts). cli/, bench/ and scripts/ stand on src/; test/ on all.

const internals = {
    // The modules above schemas/, auth/ and data/.
    application: '^src/(routes|extensions|rate-limits)/|^src/(plugin|server|index|workers)[.]ts$'
};


module.exports = {
    forbidden: [
        {
            name: 'no-circular',
            severity: 'error',
            comment: 'A cycle has no bottom: its modules load in an order that depends on which one is imported first.',
            from: {},
            to: { circular: true }
        },
        {
            name: 'common-at-the-bottom',
            severity: 'error',
            comment: 'src/common and src/generated are below everything else in src/: they import only each other.',
            from: { path: '^src/(common|generated)/' },
            to: { path: '^src/', pathNot: '^src/(common|generated)/' }
        },
        {
            name: 'foundation-below-layers',
            severity: 'error',
            comment: 'The configuration, the logger and its output, and the private-file checks stand on src/common alone.',
            from: { path: '^src/(config[.]ts|config/|logger[.]ts|log-output[.]ts|private-files[.]ts)' },
            to: { path: '^src/', pathNot: '^src/(common/|generated/|config[.]ts|config/|logger[.]ts|log-output[.]ts|private-files[.]ts)' }
        },
        {
            name: 'layers-below-application',
            severity: 'error',
            comment: 'schemas/, auth/ and data/ are what the routes and the plugin are built from, never the other way.',
            from: { path: '^src/(schemas|auth|data)/' },
            to: { path: internals.application }
        },
        {
            name: 'schemas-and-auth-below-data',
            severity: 'error',
            comment: 'data/ may use what schemas/ and auth/ hold; they know nothing of the database.',
            from: { path: '^src/(schemas|auth)/' },
            to: { path: '^src/data/' }
        },
        {
            name: 'schemas-apart-from-auth',
            severity: 'error',
            comment: 'schemas/ (joi) and auth/ (tokens and keys) stand side by side; what both need lives in src/common.',
            from: { path: '^src/(schemas|auth)/' },
            to: { path: '^src/(schemas|auth)/', pathNot: '^src/$1/' }
        },
        {
            name: 'src-stands-alone',
            severity: 'error',
            comment: 'The service imports none of the tools around it: cli/, bench/, scripts/, test/.',
            from: { path: '^src/' },
            to: { path: '^(cli|bench|scripts|test)/' }
        },
        {
            name: 'tests-stay-in-test',
            severity: 'error',
            comment: 'Only tests import test/: cli/, bench/ and scripts/ stand on src/.',
            from: { path: '^(cli|bench|scripts)/' },
            to: { path: '^test/' }
        },
        {
            name: 'no-unresolvable',
            severity: 'error',
            comment: 'An import this check cannot follow would go unchecked.',
            from: {},
            to: { couldNotResolve: true }
        }
    ],
    options: {
        doNotFollow: { path: '^node_modules/' },
        exclude: { path: '^dist/' },
        tsPreCompilationDeps: true,
        tsConfig: { fileName: 'tsconfig.json' },
        enhancedResolveOptions: {
            exportsFields: ['exports'],
            conditionNames: ['require', 'import', 'node', 'default', 'types'],
            extensions: ['.ts', '.js', '.cjs', '.mjs', '.json']
        }
    }
};
