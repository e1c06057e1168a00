/**
 * npm run example: serves the live tasks page (index.html, app.mjs bundled with todo-api/client, style.css) on
 * http://localhost:3000, the origin the API allows by default (CORS_ORIGINS), and nothing else. The page calls the
 * API itself, across origins with a bearer token, as the frontend does: start it first with `npm start`.
 * EXAMPLE_PORT picks another port (then add its origin to the API's CORS_ORIGINS).
 */
import Fs from 'node:fs';
import Http from 'node:http';
import Path from 'node:path';

import { build } from 'esbuild';


export interface ExampleServer {
    /** Where the page is, e.g. http://localhost:3000 (the origin the API must allow). */
    url: string;
    close(): Promise<void>;
}


const internals = {
    // The page runs its own script and style only, and talks to the API the person types in: any http(s) origin.
    contentSecurityPolicy: [
        'default-src \'none\'',
        'script-src \'self\'',
        'style-src \'self\'',
        'connect-src http: https:',
        'base-uri \'none\'',
        'form-action \'none\'',
        'frame-ancestors \'none\''
    ].join('; '),

    /** The page's script with the client, as one ES module (the client is built by npm run build:client). */
    async bundle(): Promise<string> {

        try {
            const result = await build({
                entryPoints: [Path.join(__dirname, 'app.mjs')],
                bundle: true,
                format: 'esm',
                platform: 'browser',
                target: 'es2022',
                write: false,
                logLevel: 'silent'
            });

            return result.outputFiles[0].text;
        }
        catch (err) {
            throw new Error(`could not bundle the page's script (is the client built? npm run build:client): ${(err as Error).message}`);
        }
    }
};


/** Builds the page's script, then serves the page's three files on host:port (0: any free port). */
export async function startExampleServer({ host = 'localhost', port = 3000 }: { host?: string; port?: number } = {}): Promise<ExampleServer> {

    const files = new Map([
        ['/', { type: 'text/html; charset=utf-8', body: Fs.readFileSync(Path.join(__dirname, 'index.html'), 'utf8') }],
        ['/app.js', { type: 'text/javascript; charset=utf-8', body: await internals.bundle() }],
        ['/style.css', { type: 'text/css; charset=utf-8', body: Fs.readFileSync(Path.join(__dirname, 'style.css'), 'utf8') }]
    ]);

    const server = Http.createServer((req, res) => {

        const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(new URL(req.url ?? '/', 'http://page').pathname) : undefined;
        if (!file) {
            res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
            return;
        }

        res.writeHead(200, {
            'content-type': file.type,
            'cache-control': 'no-store',
            'content-security-policy': internals.contentSecurityPolicy,
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer'
        });
        res.end(req.method === 'HEAD' ? undefined : file.body);
    });

    await new Promise<void>((resolve, reject) => {

        server.once('error', reject);
        server.listen(port, host, resolve);
    });

    const address = server.address() as { port: number };
    return {
        url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
        close: () => {

            server.closeAllConnections();
            return new Promise((resolve) => server.close(() => resolve()));
        }
    };
}


if (require.main === module) {
    startExampleServer({ port: Number(process.env.EXAMPLE_PORT ?? 3000) }).then((example) => {

        console.log(`The live tasks page: ${example.url}`);
        console.log('It calls the API at the address on the page (npm start: http://127.0.0.1:8000), which must allow this origin (CORS_ORIGINS).');
        console.log('A token for it: npx todo-admin mint-token --user alice');
    }, (err: unknown) => {

        console.error('example: failed to start:', err instanceof Error ? err.message : err);
        process.exitCode = 1;
    });
}
