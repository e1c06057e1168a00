/**
 * npm run check:docs: loads /docs in headless Chromium against a server of its own (embedded database in memory)
 * and checks what a reader gets: every operation of openapi.yaml listed, a lock on the /api operations and on no
 * other, "Authorize" with a bearer token making "Try it out" succeed, nothing refused by the page's
 * Content-Security-Policy, no script error. Writes a screenshot (CHECK_DOCS_SCREENSHOT, default in the temporary
 * directory). CHROMIUM_PATH overrides /usr/bin/chromium (Debian's `chromium` package).
 */
import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import type { Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import Yaml from 'yaml';

import { mintToken } from '../src/auth/tokens';
import { parseConfig } from '../src/config';
import { createDatabase } from '../src/data/connection';
import { contractPath } from '../src/routes/docs/contract';
import { createServer } from '../src/server';


const internals = {
    methods: ['get', 'put', 'post', 'delete', 'patch'],
    // The network is closed and the profile is thrown away: nothing to sync, update or ask on first run.
    chromiumArgs: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'
    ],
    timeoutMs: 30_000,

    documentedOperations(): string[] {

        const contract = Yaml.parse(Fs.readFileSync(contractPath, 'utf8')) as { paths: Record<string, Record<string, unknown>> };
        return Object.entries(contract.paths)
            .flatMap(([path, item]) => Object.keys(item).filter((key) => internals.methods.includes(key)).map((method) => `${method.toUpperCase()} ${path}`))
            .sort();
    },

    /** What the page shows: each operation, and whether it carries a lock (needs the bearer token). */
    async listedOperations(page: Page): Promise<{ operation: string; locked: boolean }[]> {

        return await page.$$eval('.opblock', (blocks) => {

            return blocks.map((block) => ({
                operation: `${block.querySelector('.opblock-summary-method')?.textContent?.trim()} ${block.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
                locked: block.querySelector('.authorization__btn') !== null
            }));
        });
    },

    /** Types the token into "Authorize", then runs GET /api/tasks with "Try it out"; the status it shows. */
    async authorizeAndTryListing(page: Page, token: string): Promise<string> {

        await page.click('.auth-wrapper .authorize');
        await page.fill('.modal-ux input[type="text"], .modal-ux input[type="password"]', token);
        await page.click('.modal-ux button.authorize');
        await page.click('.modal-ux button.btn-done');

        const block = page.locator('#operations-tasks-listTasks');
        await block.locator('.opblock-summary').first().click();
        await block.locator('.try-out__btn').click();
        await block.locator('.execute').click();

        const status = block.locator('.live-responses-table .response .response-col_status').first();
        await status.waitFor({ timeout: internals.timeoutMs });
        return (await status.textContent() ?? '').trim();
    }
};


async function main(): Promise<number> {

    const config = parseConfig({
        BETTER_AUTH_SECRET: Crypto.randomBytes(32).toString('base64url'),
        DATABASE_URL: 'pglite://memory',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn'
    });

    const db = await createDatabase(config.database);
    await db.knex.migrate.latest();
    const server = await createServer({ config, db });
    await server.start();

    const profile = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'check-docs-'));
    const screenshot = process.env.CHECK_DOCS_SCREENSHOT ?? Path.join(Os.tmpdir(), 'todo-api-docs.png');
    const problems: string[] = [];

    const browser = await chromium.launchPersistentContext(profile, {
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: internals.chromiumArgs,
        viewport: { width: 1280, height: 900 }
    });

    try {
        const page = browser.pages()[0] ?? await browser.newPage();
        page.setDefaultTimeout(internals.timeoutMs);

        // Runs in the page (as text: this file is compiled without the DOM's types); surfaces as a console error.
        await page.addInitScript({
            content: `document.addEventListener('securitypolicyviolation', (event) => {
                console.error('CSP refused ' + (event.blockedURI || 'inline') + ' (' + event.violatedDirective + ')');
            });`
        });

        page.on('console', (message) => {

            if (message.type() === 'error') {
                problems.push(`console: ${message.text()}`);
            }
        });

        page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
        page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
        page.on('response', (response) => {

            if (response.status() >= 400) {
                problems.push(`${response.status()} for ${response.url()}`);
            }
        });

        const response = await page.goto(`${server.info.uri}/docs`, { waitUntil: 'load' });
        if (response?.status() !== 200) {
            problems.push(`/docs answered ${response?.status()}`);
        }

        await page.waitForSelector('.opblock .opblock-summary-path');
        const listed = await internals.listedOperations(page);
        const expected = internals.documentedOperations();
        const shown = listed.map((entry) => entry.operation).sort();

        for (const operation of expected.filter((expectedOperation) => !shown.includes(expectedOperation))) {
            problems.push(`not listed: ${operation}`);
        }

        for (const operation of shown.filter((shownOperation) => !expected.includes(shownOperation))) {
            problems.push(`listed but not in openapi.yaml: ${operation}`);
        }

        for (const { operation, locked } of listed) {
            const needsToken = operation.split(' ')[1].startsWith('/api/');
            if (locked !== needsToken) {
                problems.push(`${operation} is shown as ${locked ? 'needing a token' : 'public'}`);
            }
        }

        const title = (await page.textContent('.info .title'))?.trim();
        const token = mintToken(config.auth, { userId: 'docs-reader', ttlSec: 300 }).token;
        const status = await internals.authorizeAndTryListing(page, token);
        if (status !== '200') {
            problems.push(`"Try it out" on GET /api/tasks after "Authorize" answered ${status}`);
        }

        await page.locator('#operations-tasks-listTasks .opblock-summary').first().click();
        await page.evaluate('window.scrollTo(0, 0)');
        await page.screenshot({ path: screenshot, fullPage: true });

        console.log(`page title: ${await page.title()}; heading: ${title}`);
        console.log(`${listed.length} operations listed, ${expected.length} in openapi.yaml; ` +
            `${listed.filter((entry) => entry.locked).length} with a lock; Try it out with the token: ${status}`);
        console.log(`screenshot: ${screenshot}`);
    }
    finally {
        await browser.close();
        Fs.rmSync(profile, { recursive: true, force: true });
        await server.stop();
        await db.destroy();
    }

    for (const problem of problems) {
        console.error(`check:docs: ${problem}`);
    }

    console.log(problems.length ? `check:docs: ${problems.length} problem(s)` : 'check:docs: ok');
    return problems.length ? 1 : 0;
}


main().then((code) => {

    process.exitCode = code;
}, (err: unknown) => {

    console.error('check:docs: failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
