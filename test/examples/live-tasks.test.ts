import Crypto from 'node:crypto';
import Fs from 'node:fs';

import anyTest from 'ava';
import type { TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

import type { ExampleServer } from '../../examples/live-tasks/server';
import { startExampleServer } from '../../examples/live-tasks/server';
import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';
import { startFaultProxy } from '../helpers/fault-proxy';


// The live tasks page (examples/live-tasks/) in headless Chromium, against an API on a port of its own that allows
// the page's origin, as the frontend's API does: two pages of one user stay in step, and a page whose connection is
// cut catches up when it comes back.


interface Context {
    api: TestApi;
    example: ExampleServer;
    browser: Browser;
}


const test = anyTest as TestFn<Context>;

const internals = {
    chromiumPath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    // The network is closed and the profile is thrown away: nothing to sync, update or ask on first run.
    chromiumArgs: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'
    ],
    // How long a change made in one page may take to show in the other.
    liveMs: 1000,
    // Anything else the page waits on (a launch, a load, a reconnect after its backoff) on a loaded machine.
    slowMs: 30_000,
    // What Chromium logs for a request that lost its connection (reset, refused, cut under a stream): no answer.
    cutErrors: /^Failed to load resource: net::ERR_[A-Z_]+$/
};


test.before(async (t) => {

    if (!Fs.existsSync(internals.chromiumPath)) {
        throw new Error(`No Chromium at ${internals.chromiumPath}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
    }

    const example = await startExampleServer({ host: '127.0.0.1', port: 0 });
    const api = await startTestApi({ HOST: '127.0.0.1', PORT: '0', CORS_ORIGINS: example.url });
    await api.server.start();
    const browser = await chromium.launch({ executablePath: internals.chromiumPath, headless: true, args: internals.chromiumArgs });
    t.context = { api, example, browser };
});

test.after.always(async (t) => {

    await t.context?.browser?.close();
    await t.context?.example?.close();
    await t.context?.api?.stop();
});


interface Row {
    id: string;
    title: string;
    completed: boolean;
}


/**
 * A page of its own browser context, connected as the user to the API at apiUrl; what went wrong in it (a script
 * error, an error logged, an error answer) is pushed on problems. The connection errors of a cut are expected where
 * the test makes them.
 */
async function openPage(t: { context: Context }, user: string, apiUrl: string, { cutOff = false } = {}): Promise<{ page: Page; problems: string[] }> {

    const { api, example, browser } = t.context;
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(internals.slowMs);

    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
    page.on('console', (message) => {

        if (message.type() === 'error' && !(cutOff && internals.cutErrors.test(message.text()))) {
            problems.push(`console: ${message.text()}`);
        }
    });

    page.on('response', (response) => {

        if (response.status() >= 400) {
            problems.push(`${response.status()} for ${response.request().method()} ${response.url()}`);
        }
    });

    await page.goto(example.url);
    await page.fill('#api-url', apiUrl);
    await page.fill('#token', api.token(user));
    await page.click('#connect button');
    await page.locator('#status[data-state="live"]').waitFor();
    return { page, problems };
}


/** The list the page shows, top to bottom. */
function rows(page: Page): Promise<Row[]> {

    return page.$$eval('#tasks li', (items) => {

        return items.map((item) => ({
            id: item.getAttribute('data-id') ?? '',
            title: item.querySelector('.title')?.textContent ?? '',
            completed: item.getAttribute('data-completed') === 'true'
        }));
    });
}


/** The user's list as the API has it (GET /api/tasks: newest first). */
async function serverRows(api: TestApi, user: string): Promise<Row[]> {

    const response = await api.request({ method: 'GET', url: '/api/tasks', as: user });
    return (response.result as Task[]).map(({ id, title, completed }) => ({ id, title, completed }));
}


function row(page: Page, id: string) {

    return page.locator(`#tasks li[data-id="${id}"]`);
}


test('two pages of one user stay in step, and a page cut off catches up when it comes back', async (t) => {

    const { api } = t.context;
    const user = `page-${Crypto.randomUUID()}`;
    const before = await api.createTask(user, { title: 'Made before the pages opened' });

    // Page two reaches the API through a proxy that can cut its connections: Chromium's offline mode
    // (context.setOffline) fails new requests but leaves an open stream as it is.
    const proxy = await startFaultProxy(api.server.info.uri);
    t.teardown(() => proxy.close());
    const one = await openPage(t, user, api.server.info.uri);
    const two = await openPage(t, user, proxy.url, { cutOff: true });
    t.deepEqual(await rows(one.page), [{ id: before.id, title: before.title, completed: false }], 'the full sync');
    t.deepEqual(await rows(two.page), await rows(one.page));

    // Added in page one: in page two within a second of the create's answer.
    await one.page.fill('#title', 'Buy milk');
    const [created] = await Promise.all([
        one.page.waitForResponse((response) => response.request().method() === 'POST' && response.url().endsWith('/api/tasks')),
        one.page.click('#add button')
    ]);
    t.is(created.status(), 201);
    const milk = (await created.json() as Task).id;
    await row(two.page, milk).waitFor({ timeout: internals.liveMs });
    t.is(await row(two.page, milk).locator('.title').textContent(), 'Buy milk');

    // Completed in page one.
    const [completion] = await Promise.all([
        one.page.waitForResponse((response) => response.request().method() === 'PATCH' && response.url().endsWith(`/api/tasks/${milk}/complete`)),
        row(one.page, milk).locator('input.complete').check()
    ]);
    t.is(completion.status(), 200);
    await two.page.locator(`#tasks li[data-id="${milk}"][data-completed="true"]`).waitFor({ timeout: internals.liveMs });
    t.true(await row(two.page, milk).locator('input.complete').isChecked());

    // Deleted (to the trash) in page one.
    const [deleted] = await Promise.all([
        one.page.waitForResponse((response) => response.request().method() === 'DELETE' && response.url().endsWith(`/api/tasks/${milk}`)),
        row(one.page, milk).locator('button.delete').click()
    ]);
    t.is(deleted.status(), 204);
    await row(two.page, milk).waitFor({ state: 'detached', timeout: internals.liveMs });

    // Made elsewhere (here straight through the API): in both pages.
    const elsewhere = await api.createTask(user, { title: 'Made elsewhere' });
    await row(one.page, elsewhere.id).waitFor({ timeout: internals.liveMs });
    await row(two.page, elsewhere.id).waitFor({ timeout: internals.liveMs });
    t.deepEqual(await rows(two.page), await serverRows(api, user));

    // Page two's connections are cut, and its attempts to connect again refused, while page one makes changes.
    const resumedFrom: string[] = [];
    two.page.on('request', (request) => {

        if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/changes/stream') {
            resumedFrom.push(request.headers()['last-event-id'] ?? '');
        }
    });

    proxy.cut();
    await two.page.locator('#status[data-state="retrying"]').waitFor();

    const madeWhileAway: string[] = [];
    for (const title of ['While away 1', 'While away 2']) {
        await one.page.fill('#title', title);
        const [response] = await Promise.all([
            one.page.waitForResponse((answer) => answer.request().method() === 'POST' && answer.url().endsWith('/api/tasks')),
            one.page.click('#add button')
        ]);
        madeWhileAway.push((await response.json() as Task).id);
    }

    await row(one.page, madeWhileAway[1]).waitFor();
    await row(one.page, madeWhileAway[0]).locator('input.complete').check();
    await one.page.locator(`#tasks li[data-id="${madeWhileAway[0]}"][data-completed="true"]`).waitFor();
    await row(one.page, before.id).locator('button.delete').click();
    await row(one.page, before.id).waitFor({ state: 'detached' });

    const expected = await serverRows(api, user);
    t.deepEqual(expected.map(({ title, completed }) => ({ title, completed })), [
        { title: 'While away 2', completed: false },
        { title: 'While away 1', completed: true },
        { title: 'Made elsewhere', completed: false }
    ]);
    t.deepEqual(await rows(one.page), expected);
    t.notDeepEqual(await rows(two.page), expected, 'page two missed the changes while it was cut off');

    // Back: page two reconnects (after its backoff), resuming from the last change it saw, and shows the server's list.
    proxy.restore();
    await two.page.locator('#status[data-state="live"]').waitFor();
    // (As text: this file is compiled without the DOM's types.)
    const want = JSON.stringify(expected.map(({ id, completed }) => `${id}:${completed}`).join(','));
    await two.page.waitForFunction(`[...document.querySelectorAll('#tasks li')]
        .map((item) => item.dataset.id + ':' + item.dataset.completed).join(',') === ${want}`, undefined, { timeout: internals.slowMs });

    t.deepEqual(await rows(two.page), await serverRows(api, user));
    t.true(resumedFrom.length >= 1, 'page two opened the stream again');
    t.true(resumedFrom.every((cursor) => cursor !== ''), 'each attempt resumed from a cursor (Last-Event-ID), not from now');

    t.deepEqual([...one.problems, ...two.problems], []);
});
