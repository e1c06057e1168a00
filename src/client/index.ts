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
