/**
 * A typed client for the frontend: `import { createTodoClient } from 'todo-api/client'`.
 *
 * Built on openapi-fetch with the types generated from openapi.yaml, so the compiler checks each call's path,
 * parameters and body, and types what comes back: the data of a success, and the error body of a failure
 * (`{detail: string}`, or for a 422 `{detail: ValidationIssue[]}`). Nothing of the server is imported here: only
 * types, and openapi-fetch at run time.
 */
import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';

// The contract's types as a client sends them: a field with a default may be left out (the server's own
// ../generated/openapi.ts has it filled in, as validation leaves it).
import type { components, paths } from '../generated/openapi-client';


export type { components, operations, paths } from '../generated/openapi-client';


type Schemas = components['schemas'];

export type Task = Schemas['Task'];
export type TaskCreate = Schemas['TaskCreate'];
export type TaskPatch = Schemas['TaskPatch'];
export type TaskCompletion = Schemas['TaskCompletion'];
export type Priority = Schemas['Priority'];

/** The body of every error but a 422: `{"detail": "Task not found"}`. */
export type ErrorBody = Schemas['Error'];
/** One problem of a 422: where (`["body", "title"]`), what, and joi's name for it (`string.max`). */
export type ValidationIssue = Schemas['ValidationIssue'];
/** The body of a 422: every problem found in the request. */
export type ValidationErrorBody = Schemas['ValidationError'];
/** What a failed call's `error` holds. */
export type ApiError = ErrorBody | ValidationErrorBody;

export type TodoClient = Client<paths>;


export interface TodoClientOptions {
    /** Where the API is, e.g. `https://api.example.com` (no trailing path: the paths start with /api). */
    baseUrl: string;
    /**
     * The bearer token for a request, asked for before each one (so a refreshed token is picked up): for example
     * `async () => (await authClient.token()).data?.token` with Better Auth's jwt client plugin. No token, no header.
     */
    getToken: () => string | null | undefined | Promise<string | null | undefined>;
    /** Another fetch (tests, server-side rendering); the global one by default. */
    fetch?: (input: Request) => Promise<Response>;
}


/** A client for every operation of openapi.yaml: `client.GET('/api/tasks', { params: { query: { limit: 20 } } })`. */
export function createTodoClient({ baseUrl, getToken, fetch }: TodoClientOptions): TodoClient {

    const client = createClient<paths>({ baseUrl, ...(fetch ? { fetch } : {}) });
    client.use({
        async onRequest({ request }) {

            const token = await getToken();
            if (token) {
                request.headers.set('Authorization', `Bearer ${token}`);
            }

            return request;
        }
    });

    return client;
}


/** Narrows a failed call's error to a 422's list of problems. */
export function isValidationError(error: ApiError | undefined): error is ValidationErrorBody {

    return Array.isArray(error?.detail);
}


/** The cursor of the next page of a list response (`X-Next-Cursor`), or undefined on the last page. */
export function nextCursor(response: Response): string | undefined {

    return response.headers.get('X-Next-Cursor') ?? undefined;
}


/** One change as the feed and the stream give it: an upsert of a task (with its ETag) or the delete of one. */
export type Change = Schemas['TaskUpsert'] | Schemas['TaskDelete'];


export interface SubscribeOptions extends TodoClientOptions {
    /** Where to start: a cursor of `GET /api/changes` or an event's id. Left out: from now. */
    since?: string;
    /** Each change, in order, with the cursor after it (keep it: it is where to resume from). */
    onChange: (change: Change, cursor: string) => void | Promise<void>;
    /** Ends the subscription. */
    signal?: AbortSignal;
    /** Told of each failed attempt before the next (the stream dropped, a 5xx, a 429): for a status line. */
    onRetry?: (err: Error, delayMs: number) => void;
}


/** The stream refused the cursor: 410 (no longer remembered) or 422 (not this user's). Sync again from the start. */
export class StreamCursorRefused extends Error {

    constructor(readonly status: number, readonly detail: unknown) {

        super(`the change stream refused the cursor (${status}): sync again from the start with GET /api/changes`);
        this.name = 'StreamCursorRefused';
    }
}


const internals = {
    backoff: { firstMs: 250, maxMs: 30_000 },

    sleep(ms: number, signal?: AbortSignal): Promise<void> {

        return new Promise((resolve) => {

            const done = () => {

                clearTimeout(timer);
                signal?.removeEventListener('abort', done);
                resolve();
            };

            const timer = setTimeout(done, ms);
            signal?.addEventListener('abort', done);
        });
    }
};


/**
 * Follows `GET /api/changes/stream` (on fetch streaming: a browser's EventSource cannot send the Authorization
 * header). Every attempt asks `getToken` for a fresh token and resumes from the last event's id, so that a dropped
 * connection, an expired token or a server that stops costs nothing but a reconnect: no change is missed, none comes
 * twice. Reconnects with backoff (and jitter); resolves when `signal` aborts, rejects with StreamCursorRefused when the
 * cursor is refused (the client must then sync from the start), and with the error of `onChange` if it throws.
 */
export async function subscribeToChanges(options: SubscribeOptions): Promise<void> {

    const { baseUrl, getToken, signal, onChange } = options;
    const fetcher = options.fetch ?? ((request: Request) => fetch(request));
    let cursor = options.since;
    let delayMs = internals.backoff.firstMs;

    let handlerFailed: { err: unknown } | null = null;
    while (!signal?.aborted) {
        let failure: Error;
        try {
            const url = new URL('/api/changes/stream', baseUrl);
            const headers = new Headers({ accept: 'text/event-stream' });
            const token = await getToken();
            if (token) {
                headers.set('Authorization', `Bearer ${token}`);
            }

            if (cursor !== undefined) {
                headers.set('Last-Event-ID', cursor);
            }

            const response = await fetcher(new Request(url, { headers, signal }));
            if (response.status === 410 || response.status === 422) {
                const body = await response.json().catch(() => null) as { detail?: unknown } | null;
                throw new StreamCursorRefused(response.status, body?.detail);
            }

            if (response.status !== 200 || !response.body) {
                await response.body?.cancel();
                throw new Error(`the change stream answered ${response.status}`);
            }

            const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
            let buffer = '';
            for (;;) {
                const { value, done } = await reader.read();
                if (done) {
                    break;
                }

                buffer += value;
                let at: number;
                while ((at = buffer.indexOf('\n\n')) !== -1) {
                    const block = buffer.slice(0, at);
                    buffer = buffer.slice(at + 2);
                    const fields = new Map<string, string>();
                    for (const line of block.split('\n')) {
                        const colon = line.indexOf(':');
                        if (colon > 0) {
                            fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ''));
                        }
                    }

                    // Connected and reading: the next drop starts the backoff over.
                    delayMs = internals.backoff.firstMs;
                    if (fields.get('event') === 'change' && fields.has('id') && fields.has('data')) {
                        try {
                            await onChange(JSON.parse(fields.get('data')!) as Change, fields.get('id')!);
                        }
                        catch (err) {
                            handlerFailed = { err };
                            throw err;
                        }

                        cursor = fields.get('id');
                    }
                }
            }

            failure = new Error('the change stream ended');
        }
        catch (err) {
            if (signal?.aborted) {
                return;
            }

            if (err instanceof StreamCursorRefused || handlerFailed) {
                throw err;
            }

            failure = err as Error;
        }

        const waitMs = Math.round(delayMs * (0.5 + Math.random() / 2));
        options.onRetry?.(failure, waitMs);
        await internals.sleep(waitMs, signal);
        delayMs = Math.min(delayMs * 2, internals.backoff.maxMs);
    }
}
