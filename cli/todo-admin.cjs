#!/usr/bin/env node
'use strict';

// The operators' toolkit. The TypeScript sources run as they are, as the server's do.
require('tsx/cjs');

const { main } = require('./main.ts');

main(process.argv.slice(2)).then((code) => {

    process.exitCode = code;
});
