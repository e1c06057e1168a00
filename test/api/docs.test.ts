import Fs from 'node:fs';
import Http from 'node:http';
import Path from 'node:path';

import anyTest from 'ava';
import type { TestFn } from 'ava';
import Yaml from 'yaml';

import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { contractViolations } from '../helpers/contract';


interface Context {
    api: TestApi;
    base: string;
}


interface Fetched {
    status: number;
    header(name: string): string | null;
    headers: Record<string, unknown>;
    body: Buffer;
    text: string;
}


const test = anyTest as TestFn<Context>;

const swaggerUiDir = Path.dirname(require.resolve('swagger-ui-dist/package.json'));


test.before(async (t) => {

    const api = await startTestApi({ PORT: '0' });
    await api.server.start();
    t.context = { api, base: api.server.info.uri };
});

test.after.always(async (t) => {

    await t.context?.api.stop();
});


/**
 * A request over a socket of its own, as a browser would send it (no token). A connection per request: a kept-alive
 * one could be closed by the server, in this same busy process, just as the next request goes out on it.
 */
function get(t: { context: Context }, url: string, headers: Record<string, string> = {}): Promise<Fetched> {

    return new Promise((resolve, reject) => {

        Http.get(`${t.context.base}${url}`, { headers, agent: false }, (res) => {

            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () => {

                const body = Buffer.concat(chunks);
                const single = (name: string) => {

                    const value = res.headers[name];
                    return Array.isArray(value) ? value.join(', ') : value ?? null;
                };

                resolve({ status: res.statusCode!, header: single, headers: res.headers, body, text: body.toString('utf8') });
            });
        }).on('error', reject);
    });
}


/** What the page loads: every script and stylesheet and icon it names. */
function referencedAssets(html: string): string[] {

    return [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
}


test('GET /docs is the Swagger UI page: public, its own scripts only, a policy that lets it run and no more', async (t) => {

    const res = await get(t, '/docs');
    t.is(res.status, 200);
    t.is(res.header('content-type'), 'text/html; charset=utf-8');
    t.deepEqual(contractViolations('GET', '/docs', { statusCode: res.status, headers: res.headers, payload: res.text }), []);

    const policy = res.header('content-security-policy') ?? '';
    t.regex(policy, /default-src 'none'/);
    t.regex(policy, /script-src 'self'(;|$)/);
    t.regex(policy, /connect-src 'self'(;|$)/);
    t.regex(policy, /frame-ancestors 'none'/);
    t.notRegex(policy, /unsafe-(inline|eval)/);

    // The security headers every response carries stay on the page.
    t.is(res.header('x-frame-options'), 'DENY');
    t.is(res.header('x-content-type-options'), 'nosniff');
    t.is(res.header('cache-control'), 'no-store');
    t.truthy(res.header('x-request-id'));

    // No inline script: the policy would refuse it.
    t.notRegex(res.text, /<script(?![^>]*\bsrc=)[^>]*>/);
    t.deepEqual(referencedAssets(res.text).sort(), [
        '/docs/favicon-16x16.png', '/docs/favicon-32x32.png', '/docs/index.css', '/docs/swagger-initializer.js',
        '/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css'
    ]);
});

test('every file the page names loads without a token, as installed, with its type and an ETag', async (t) => {

    const page = await get(t, '/docs');
    const types: Record<string, RegExp> = { '.js': /^text\/javascript; charset=utf-8$/, '.css': /^text\/css; charset=utf-8$/, '.png': /^image\/png$/ };

    for (const asset of referencedAssets(page.text)) {
        const res = await get(t, asset);
        t.is(res.status, 200, asset);
        t.regex(res.header('content-type') ?? '', types[Path.extname(asset)], asset);
        t.is(res.header('cache-control'), 'no-cache', asset);
        t.is(res.header('x-content-type-options'), 'nosniff', asset);

        const etag = res.header('etag');
        t.truthy(etag, asset);
        const again = await get(t, asset, { 'if-none-match': etag! });
        t.is(again.status, 304, asset);

        if (asset !== '/docs/swagger-initializer.js') {
            t.true(res.body.equals(Fs.readFileSync(Path.join(swaggerUiDir, Path.basename(asset)))), asset);
        }
    }
});

test('the page renders /openapi.yaml, which is the OpenAPI 3.1 contract as written', async (t) => {

    const initializer = await get(t, '/docs/swagger-initializer.js');
    t.regex(initializer.text, /SwaggerUIBundle\(\{[^}]*\burl: "\/openapi\.yaml"/);
    t.regex(initializer.text, /validatorUrl: null/);

    const contract = await get(t, '/openapi.yaml');
    t.is(contract.status, 200);
    t.is(contract.text, Fs.readFileSync(Path.resolve(__dirname, '..', '..', 'openapi.yaml'), 'utf8'));
    t.regex(Yaml.parse(contract.text).openapi, /^3\.1\./);
});

test('nothing else is served from /docs: other swagger-ui-dist files, traversal and prototype names are 404s', async (t) => {

    for (const name of ['swagger-ui.js.map', 'package.json', 'index.html', 'swagger-ui-es-bundle.js', '..%2Fpackage.json', '..%2F..%2Fopenapi.yaml', '__proto__', 'constructor', 'nope.js']) {
        const res = await get(t, `/docs/${name}`);
        t.is(res.status, 404, name);
        t.deepEqual(JSON.parse(res.text), { detail: 'Not Found' }, name);
    }
});

test('the Content-Security-Policy is the docs page\'s alone', async (t) => {

    const { api } = t.context;
    for (const url of ['/health', '/health/live', '/openapi.yaml', '/api/tasks', '/docs/swagger-ui.css']) {
        const res = await get(t, url, url.startsWith('/api') ? { authorization: `Bearer ${api.token('csp-user')}` } : {});
        t.true(res.status < 300, url);
        t.is(res.header('content-security-policy'), null, url);
    }
});

test('hapi-swagger\'s generated description is internal: only the route cross-check reads it', async (t) => {

    // The service does not make it at all.
    const outside = await get(t, '/swagger.json');
    t.is(outside.status, 404);
    t.deepEqual(JSON.parse(outside.text), { detail: 'Not Found' });
    t.is((await t.context.api.server.inject({ url: '/swagger.json', allowInternals: true })).statusCode, 404);

    // Made for the cross-check, it is still only for internal requests.
    const described = await startTestApi({}, undefined, { describeRoutes: true });
    t.teardown(() => described.stop());
    t.is((await described.server.inject({ url: '/swagger.json' })).statusCode, 404);
    const inside = await described.server.inject({ url: '/swagger.json', allowInternals: true });
    t.is(inside.statusCode, 200);
    t.is(JSON.parse(inside.payload).swagger, '2.0');
});
