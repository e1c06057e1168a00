import Fs from 'node:fs';
import Path from 'node:path';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import Package from '../../package.json';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


const test = anyTest as TestFn<TestApi>;

test.before(async (t) => {

    t.context = await startTestApi();
});

test.after.always(async (t) => {

    await t.context?.stop();
});


test('GET /health reports the database and version without a token', async (t) => {

    const res = await t.context.request({ method: 'GET', url: '/health' });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, { status: 'ok', database: 'ok', version: Package.version, jwks: 'disabled' });
});

test('GET /health/live answers without a token', async (t) => {

    const res = await t.context.request({ method: 'GET', url: '/health/live' });
    t.is(res.statusCode, 200);
    t.deepEqual(res.result, { status: 'ok' });
});

test('GET /openapi.yaml serves the contract as written', async (t) => {

    const res = await t.context.request({ method: 'GET', url: '/openapi.yaml' });
    t.is(res.statusCode, 200);
    t.is(res.payload, Fs.readFileSync(Path.resolve(__dirname, '..', '..', 'openapi.yaml'), 'utf8'));
});
