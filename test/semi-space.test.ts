import test from 'ava';

import { parseConfig } from '../src/config';
import type { Logger } from '../src/logger';
import { semiSpaceInEffect, withSemiSpace } from '../src/semi-space';
import { warnOfSemiSpace } from '../src/workers';


test('the workers\' flags: the configured size replaces every other setting of it, the other flags kept in order', (t) => {

    t.deepEqual(withSemiSpace([], 16), ['--max-semi-space-size=16']);
    t.deepEqual(withSemiSpace(['--enable-source-maps', '--max-semi-space-size=64'], 16), ['--enable-source-maps', '--max-semi-space-size=16']);
    t.deepEqual(withSemiSpace(['--max_semi_space_size=64', '--inspect', '--max-semi-space-size', '32', '--enable-source-maps'], 8),
        ['--inspect', '--enable-source-maps', '--max-semi-space-size=8']);
    t.deepEqual(withSemiSpace(['--max-old-space-size=200'], 8), ['--max-old-space-size=200', '--max-semi-space-size=8'], 'the old generation\'s flag is another one');
});

test('the size in effect: the command line\'s last setting, else NODE_OPTIONS\', else none', (t) => {

    t.is(semiSpaceInEffect([], undefined), null);
    t.is(semiSpaceInEffect(['--enable-source-maps'], ''), null);
    t.is(semiSpaceInEffect(['--max-semi-space-size=64'], undefined), 64);
    t.is(semiSpaceInEffect(['--max-semi-space-size=64', '--max_semi_space_size', '16'], undefined), 16);
    t.is(semiSpaceInEffect([], ' --inspect  --max-semi-space-size=32 '), 32);
    t.is(semiSpaceInEffect(['--max-semi-space-size=8'], '--max-semi-space-size=32'), 8, 'the command line wins');
    t.is(semiSpaceInEffect(['--max-semi-space-size=big'], undefined), null);
});

test('a server without workers says once when V8_SEMI_SPACE_MB is not what node was started with', (t) => {

    const warned = (env: Record<string, string>, execArgv: string[]) => {

        const lines: { fields: object; msg: string }[] = [];
        const logger = { warn: (fields: object, msg: string) => lines.push({ fields, msg }) } as unknown as Logger;
        warnOfSemiSpace(parseConfig({ BETTER_AUTH_SECRET: 'a-secret-of-at-least-thirty-two-characters', ...env }), logger, execArgv, env);
        return lines;
    };

    t.deepEqual(warned({}, []), [], 'nothing set anywhere: V8 sizes it');
    t.deepEqual(warned({}, ['--max-semi-space-size=16']), [], 'npm start with the default');
    t.deepEqual(warned({ V8_SEMI_SPACE_MB: '32' }, ['--max-semi-space-size=32']), [], 'npm start with the variable set');

    const [fromDotEnv] = warned({ V8_SEMI_SPACE_MB: '32' }, ['--enable-source-maps', '--max-semi-space-size=16']);
    t.like(fromDotEnv, { fields: { v8_semi_space_mb: 32, in_effect: 16 } });
    t.regex(fromDotEnv.msg, /^V8_SEMI_SPACE_MB is 32 but this process runs with --max-semi-space-size=16: node takes it when it starts/);

    t.like(warned({ V8_SEMI_SPACE_MB: '32' }, [])[0], { fields: { in_effect: null } }, 'started without npm start');
    t.like(warned({}, ['--max-semi-space-size=64'])[0], { fields: { v8_semi_space_mb: 16, in_effect: 64 } }, 'another size passed by hand');
});
