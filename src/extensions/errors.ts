import Boom from '@hapi/boom';
import type { Lifecycle, Request, ResponseToolkit } from '@hapi/hapi';
import type { ValidationError } from 'joi';

import type { components } from '../generated/openapi';


type ValidationIssue = components['schemas']['ValidationIssue'];


const internals = {
    // hapi's names for the request parts, as the frontend expects to read them in `loc`.
    locations: { payload: 'body', query: 'query', params: 'path', headers: 'header', state: 'cookie' } as Record<string, string>,

    messages: {
        unauthorized: 'Invalid authentication credentials',
        internal: 'Internal server error',
        unavailable: 'Service temporarily unavailable'
    }
};


/**
 * Turns every joi failure (body, query, path) into one 422 listing all the problems found.
 */
export function validationFailAction(_request: Request, _h: ResponseToolkit, err?: Error): Lifecycle.ReturnValue {

    const validation = (err as Boom.Boom | undefined)?.output?.payload?.validation as { source?: string } | undefined;
    const source = validation?.source ?? 'payload';
    const location = internals.locations[source] ?? source;
    const details = (err as ValidationError | undefined)?.details ?? [];

    const issues: ValidationIssue[] = details.map((detail) => ({
        loc: [location, ...detail.path],
        msg: detail.message,
        type: detail.type
    }));

    if (!issues.length) {
        issues.push({ loc: [location], msg: err?.message ?? 'Invalid input', type: 'invalid' });
    }

    throw Boom.badData('Validation failed', { issues });
}


/**
 * The one place error responses are shaped: `{"detail": ...}`, and nothing of the server's insides.
 */
export function shapeError(request: Request, response: Boom.Boom): void {

    let statusCode = response.output.statusCode;
    let detail: string | ValidationIssue[] = response.output.payload.message;

    if (statusCode >= 500) {
        // 503 comes from the data layer when the database could not be reached (src/data/errors.ts): try again later.
        const unavailable = statusCode === 503;
        statusCode = unavailable ? 503 : 500;
        detail = unavailable ? internals.messages.unavailable : internals.messages.internal;
        request.log(['error'], response);
    }
    else if (statusCode === 401) {
        detail = internals.messages.unauthorized;
        // RFC 6750 §3: no error code when no credentials came, and when they did only that they are not valid: why
        // (expired, a bad signature...) helps whoever is forging tokens more than a frontend, which signs in again.
        response.output.headers['WWW-Authenticate'] = request.headers.authorization === undefined ? 'Bearer' : 'Bearer error="invalid_token"';
    }
    else if (statusCode === 422 && Array.isArray((response.data as { issues?: unknown })?.issues)) {
        detail = (response.data as { issues: ValidationIssue[] }).issues;
    }

    response.output.statusCode = statusCode;
    response.output.payload = { detail } as unknown as Boom.Payload;
}
