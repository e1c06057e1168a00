import { fc } from '@fast-check/ava';

import { contract } from './contract';


interface JsonSchema {
    $ref?: string;
    type?: string | string[];
    enum?: unknown[];
    const?: unknown;
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    format?: string;
    pattern?: string;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    items?: JsonSchema;
}

/** Stands for the target task's latest ETag in a header value; the sender puts the real tag in its place. */
export const etagMarker = '<etag>';

/**
 * Stand for one of the sender's lists or tasks, or one of the other user's, in a body's list_id, parent_id or after
 * and in the list's list_id and parent_id queries; the sender puts a real id in their place.
 */
export const idMarkers = { ownList: '<own-list>', foreignList: '<foreign-list>', ownTask: '<own-task>', foreignTask: '<foreign-task>' };

/** Stands for a cursor the service gave out (to either user) in a `cursor` or `since` value; the sender fills it in. */
export const cursorMarker = '<cursor>';

/**
 * Stand for cursors the sender makes when it sends the request, for the user who sends it: feed cursors of this user
 * that the service never issued or can no longer serve, another user's, and cursors of the other kinds. None of them
 * may open a feed or a stream (`refused`); the others may, or may answer 410.
 */
export const syncCursorMarkers = {
    refused: {
        /** The other user's feed cursor, at that user's latest version. */
        foreign: '<feed:foreign>',
        /** This user's latest feed cursor with one byte of its check changed. */
        tampered: '<feed:tampered>',
        /** A feed cursor of this user's at a version past what a number holds exactly (2^53). */
        huge: '<feed:huge>',
        /** A list page's cursor (GET /api/tasks) and a trash page's (GET /api/trash). */
        list: '<cursor:list>',
        trash: '<cursor:trash>'
    },
    other: {
        /** This user's feed cursor at version 0: everything there is. */
        start: '<feed:start>',
        /** This user's feed cursor past its latest version. */
        ahead: '<feed:ahead>'
    }
} as const;

interface Parameter {
    name: string;
    in: 'query' | 'path' | 'header';
    schema: JsonSchema;
}

export interface Operation {
    method: string;
    /** The path template, e.g. /api/tasks/{id}. */
    path: string;
    query: Parameter[];
    body: JsonSchema | null;
}

/** One generated request, before it is aimed at a user and a task. */
export interface FuzzRequest {
    method: string;
    path: string;
    /**
     * What stands for {id}: one of the token's user's tasks, the other user's, a fresh UUID, hostile text (encoded),
     * or a literal path segment (encodings a client should not send, or none at all); `pick` chooses among the tasks.
     */
    id: { kind: 'own' | 'foreign' | 'fresh'; pick: number } | { kind: 'raw' | 'literal'; value: string };
    /** Which of the two users sends it (when the token is a valid one). */
    actor: 0 | 1;
    /**
     * Headers a client may add: CORS, conditional requests, retries, content negotiation; values printable ASCII.
     * `etagMarker` in a value stands for the target task's latest ETag.
     */
    headers: [string, string][];
    query: [string, string][];
    /** A JSON value to send, or the exact text of a body that is not JSON or is JSON no serializer would write. */
    body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; value: string };
    contentType: string | null;
    /** The actor's valid token (HS256, or signed with the key set's key), none, an Authorization header of noise, or a correctly signed token with hostile claims or header. */
    auth: 'owner' | 'owner-keyset' | 'none' | { kind: 'raw'; value: string } | { kind: 'signed'; header: Record<string, unknown>; payload: Record<string, unknown> };
    /** Send the last create that carried an Idempotency-Key again, as a client retrying it would (this request aside). */
    retry: boolean;
    /**
     * For a list: ask for a next page the service linked to before (its real cursor, with the query it was issued
     * for) instead of the generated query, as a client paging on would.
     */
    follow: boolean;
}


const internals = {
    // Characters that break storage, encodings or parsers, mixed into otherwise ordinary text.
    nastyUnit: fc.oneof(
        { weight: 6, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
        { weight: 1, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', '\u202e', '\ufeff', '\ufffd', '\uffff') },
        { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff') },
        { weight: 1, arbitrary: fc.constantFrom('😀', '👩‍👩‍👧', '𝕏', '\u{10ffff}') },
        { weight: 1, arbitrary: fc.constantFrom('%', '%00', '%zz', '\\', '"', '\'', '<', '&', '|', '..', '/', ' ', '\t', '\n') }
    ),

    // A field a generated body leaves out (see namedValue).
    omitted: Symbol('omitted'),

    deref(schema: JsonSchema): JsonSchema {

        if (!schema.$ref) {
            return schema;
        }

        const [, , section, name] = schema.$ref.split('/');
        return internals.deref(contract.components[section][name]);
    }
};


/** Text of any kind: ordinary, control characters, lone surrogates, astral characters, URL and JSON specials, very long. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: internals.nastyUnit, maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'true', '-1', '1e400', 'NaN', '0000-01-01T00:00:00Z', '2026-02-30', '__proto__') },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', '😀', '\u0000', 'é'), fc.integer({ min: 190, max: 5000 })).map(([unit, count]) => unit.repeat(count)) }
);


/** Any JSON value, with the numbers and strings parsers and databases trip on. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
    hostileText,
    fc.constantFrom(null, true, false, 0, -1, -0, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, -(2 ** 63)),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 })
);


/** A value the schema allows (dates and UUIDs in their formats, enums, lengths in characters). */
export function validValue(raw: JsonSchema): fc.Arbitrary<unknown> {

    const schema = internals.deref(raw);
    if (schema.enum) {
        return fc.constantFrom(...schema.enum);
    }

    if (schema.const !== undefined) {
        return fc.constant(schema.const);
    }

    const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'string'];
    return fc.oneof(...types.map((type): fc.Arbitrary<unknown> => {

        switch (type) {
            case 'null':
                return fc.constant(null);
            case 'boolean':
                return fc.boolean();
            case 'integer':
                return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
            case 'object':
                return validObject(schema);
            case 'array':
                return fc.array(validValue(schema.items ?? {}), { minLength: 1, maxLength: 3 });
            default:
                if (schema.format === 'date-time') {
                    return fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((date) => date.toISOString());
                }

                if (schema.format === 'uuid') {
                    return fc.uuid();
                }

                // Starts with a letter so a trimmed title keeps its minimum length.
                return fc.tuple(fc.constantFrom('a', 'Ж', '😀'), fc.string({ unit: 'grapheme', maxLength: Math.max(0, (schema.maxLength ?? 50) - 1) }))
                    .map(([first, rest]) => [...`${first}${rest}`].slice(0, schema.maxLength ?? 50).join(''));
        }
    }));
}


/**
 * A field that names a list or a task: mostly one of the sender's (so that creates and moves go through), now and then
 * the other user's, one that does not exist, or none.
 */
function namedValue(name: string, schema: JsonSchema): fc.Arbitrary<unknown> | null {

    const { ownList, foreignList, ownTask, foreignTask } = idMarkers;
    const [own, foreign, none] = name === 'list_id' ? [ownList, foreignList, 'inbox'] : [ownTask, foreignTask, 'none'];
    if (!['list_id', 'parent_id', 'after'].includes(name)) {
        return null;
    }

    // In a query, the pattern's words for none; in a body, null, and mostly left out (each one given narrows where a
    // task may go, and together they are seldom all right).
    return schema.pattern ?
        fc.oneof({ weight: 2, arbitrary: fc.constantFrom(none, none.toUpperCase()) }, { weight: 4, arbitrary: fc.constant(own) }, { weight: 1, arbitrary: fc.constant(foreign) }, { weight: 1, arbitrary: fc.uuid() }) :
        fc.oneof({ weight: 16, arbitrary: fc.constant(internals.omitted) }, { weight: 2, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: fc.constant(own) }, { weight: 1, arbitrary: fc.constant(foreign) }, { weight: 1, arbitrary: fc.uuid() });
}


export function validObject(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {

    const properties = Object.entries(schema.properties ?? {});
    const required = new Set(schema.required ?? []);
    const named = properties.filter(([name, property]) => namedValue(name, internals.deref(property))).map(([name]) => name);
    return (fc.record(Object.fromEntries(properties.map(([name, property]) => [name, namedValue(name, internals.deref(property)) ?? validValue(property)])),
        { requiredKeys: [...required, ...named] as never[] }) as fc.Arbitrary<Record<string, unknown>>)
        .map((body) => Object.fromEntries(Object.entries(body).filter(([, value]) => value !== internals.omitted)));
}


/** Every operation of openapi.yaml, with its query parameters and body schema. */
export function documentedOperations(): Operation[] {

    const operations: Operation[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(contract.paths)) {
        for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
            const operation = item[method];
            if (!operation) {
                continue;
            }

            const parameters: Parameter[] = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((parameter) => internals.deref(parameter) as unknown as Parameter);
            operations.push({
                method: method.toUpperCase(),
                path,
                query: parameters.filter((parameter) => parameter.in === 'query'),
                body: operation.requestBody?.content?.['application/json']?.schema ?? null
            });
        }
    }

    return operations;
}


/** A request body: mostly valid, or valid with one field made hostile, or not a valid body at all. */
function bodyFor(schema: JsonSchema | null): fc.Arbitrary<FuzzRequest['body']> {

    const broken: fc.Arbitrary<FuzzRequest['body']> = fc.oneof(
        hostileValue.map((value) => ({ kind: 'json' as const, value })),
        fc.constantFrom(
            '', '{', '{"title":', 'null', '[]', '"text"', '{"title":"a","title":"\\u0000"}', '{"__proto__":{"admin":true},"title":"a"}',
            '{"constructor":{"prototype":{"x":1}},"title":"a"}', '{"title":"\\ud800"}', '{"title":"a"} trailing', '\u0000', '\ufeff{"title":"bom"}'
        ).map((value) => ({ kind: 'raw' as const, value })),
        fc.integer({ min: 1, max: 30_000 }).map((depth) => ({ kind: 'raw' as const, value: `${'['.repeat(depth)}${']'.repeat(depth)}` })),
        fc.integer({ min: 1, max: 20_000 }).map((depth) => ({ kind: 'raw' as const, value: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` }))
    );

    if (!schema) {
        return fc.oneof({ weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) }, { weight: 1, arbitrary: broken });
    }

    const resolved = internals.deref(schema);
    const valid = validObject(resolved);
    const fields = Object.keys(resolved.properties ?? {});
    const oneFieldHostile = fc.tuple(valid, fc.constantFrom(...fields), hostileValue)
        .map(([body, field, value]) => ({ kind: 'json' as const, value: { ...body, [field]: value } }));

    return fc.oneof(
        { weight: 6, arbitrary: valid.map((value) => ({ kind: 'json' as const, value })) },
        { weight: 4, arbitrary: oneFieldHostile },
        { weight: 2, arbitrary: broken },
        { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) }
    );
}


/**
 * A cursor a client should not have: another user's, one of another kind, one out of range, base64 of nothing the
 * service writes, numbers, and hostile text (very long, unicode).
 */
export const hostileCursor: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...Object.values(syncCursorMarkers.refused), ...Object.values(syncCursorMarkers.other)) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => Buffer.from(bytes).toString('base64url')) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')) },
    { weight: 1, arbitrary: fc.constantFrom('0', '-1', '-0', '1e400', 'NaN', '9'.repeat(400), 'AAAAAAAAAAAAAAAAAAAAAA', '_'.repeat(22), 'AAAAAAAAAAAAAAAAAAAAAA==', '+/+/+/+/+/+/+/+/+/+/+/', '😀'.repeat(11), 'é'.repeat(22)) },
    { weight: 1, arbitrary: hostileText }
);


/** A parameter's valid value; for a cursor, often one the service issued, so that pages and feeds go on, or a hostile one. */
function validCursor(parameter: Parameter): fc.Arbitrary<unknown> {

    const value = namedValue(parameter.name, parameter.schema) ?? validValue(parameter.schema);
    return ['cursor', 'since'].includes(parameter.name) ?
        fc.oneof({ weight: 1, arbitrary: value }, { weight: 2, arbitrary: fc.constant(cursorMarker) }, { weight: 2, arbitrary: hostileCursor }) :
        value;
}


function queryFor(parameters: Parameter[]): fc.Arbitrary<[string, string][]> {

    const names = [...parameters.map((parameter) => parameter.name), 'unknown', '__proto__'];
    // A valid array value is the parameter repeated, once per item (style form, explode).
    const valid = (parameter: Parameter) => {

        return validCursor(parameter).map((value): [string, string][] => {

            return (Array.isArray(value) ? value : [value]).map((item) => [parameter.name, String(item)]);
        });
    };

    const pairs = fc.oneof(
        { weight: 3, arbitrary: parameters.length ? fc.constantFrom(...parameters).chain(valid) : fc.constant<[string, string][]>([['unknown', '1']]) },
        { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...names), hostileText).map((pair) => [pair]) }
    );

    const some = fc.array(pairs, { maxLength: 4 }).map((groups) => groups.flat());

    // An operation without query parameters is mostly sent without a query: any parameter is refused (422), and
    // the fuzzer would seldom get past validation to the operation itself.
    return parameters.length ? some : fc.oneof({ weight: 3, arbitrary: fc.constant<[string, string][]>([]) }, { weight: 1, arbitrary: some });
}


const tokenNoise = fc.oneof(
    hostileText.filter((text) => /^[\x21-\x7e]*$/.test(text)).map((text) => `Bearer ${text}`),
    fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
    fc.constantFrom('', 'Bearer', 'Bearer  ', 'Basic dXNlcjpwYXNz', 'bearer x.y.z', `Bearer ${'a'.repeat(9000)}`, `Bearer ${'e30.'.repeat(3000)}`)
);


const headerNames = ['origin', 'access-control-request-method', 'access-control-request-headers', 'if-match', 'if-none-match',
    'idempotency-key', 'accept', 'accept-encoding', 'accept-language', 'x-request-id', 'cookie', 'content-encoding', 'x-forwarded-for'];

// Addresses as a client or a proxy writes X-Forwarded-For: the rate limits read them behind a trusted proxy.
const forwardedFor = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('unknown', '', ' ', '::ffff:10.0.0.1', '999.1.1.1', '_hidden')), { minLength: 2, maxLength: 5 }).map((hops) => hops.join(', '))
);

const headerValue = fc.oneof(
    fc.constantFrom('http://localhost:3000', 'null', '*', '"abc"', 'W/"abc"', '*, "x"', 'gzip, br', 'identity', 'text/html', '*/*;q=0', 'POST', 'authorization, x-evil'),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 300 }),
    fc.integer({ min: 256, max: 4000 }).map((length) => 'k'.repeat(length))
);

// Preconditions that name the task's real ETag (so that some match), and a few idempotency keys used over and over
// (so that retries are replayed, or refused when the body differs), besides the noise above.
const conditionalHeader = fc.tuple(
    fc.constantFrom('if-match', 'if-none-match'),
    fc.constantFrom(etagMarker, `W/${etagMarker}`, `"stale", ${etagMarker}`, '*')
);

const keyHeader = fc.tuple(fc.constant('idempotency-key'), fc.constantFrom('retry-1', 'retry-2', 'retry-3'));

// Where a stream resumes: a feed cursor the service issued (so that some resume), or a hostile one. The sender
// writes what is not Latin-1 as its UTF-8 bytes, as a client sends it, and leaves out what no header can hold.
const eventIdHeader = fc.tuple(fc.constant('last-event-id'), fc.oneof(fc.constant(cursorMarker), hostileCursor));

const extraHeaders = fc.tuple(
    fc.array(fc.oneof(fc.tuple(fc.constantFrom(...headerNames), headerValue), fc.tuple(fc.constant('x-forwarded-for'), forwardedFor)), { maxLength: 3 }),
    fc.option(fc.oneof(conditionalHeader, keyHeader, eventIdHeader), { freq: 3 })
)
    .map(([pairs, chosen]) => [...new Map(chosen ? [...pairs, chosen] : pairs)]);


/** The kids of the key set the fuzzed server trusts. */
export const keySetKids = ['fuzz-ed', 'fuzz-ec'];


// Signed with the right secret, so only the claims and header decide: one of them hostile, the rest valid.
const signedToken = fc.record({
    header: fc.record({
        alg: fc.constantFrom('HS256', 'HS256', 'HS512', 'none', 'ES256', 'EdDSA'),
        typ: fc.oneof(fc.constantFrom('JWT', 'jwt', 'at+jwt', 'application/at+JWT', undefined, 'logout+jwt', 'JOSE', 'secevent+jwt', ''), hostileValue),
        kid: fc.option(fc.oneof(hostileValue, fc.constantFrom(...keySetKids))),
        crit: fc.option(fc.array(hostileText, { maxLength: 2 }))
    }, { requiredKeys: ['alg'] }),
    claim: fc.constantFrom('user_id', 'sub', 'exp', 'iat', 'nbf', 'iss', 'aud'),
    value: hostileValue
}).map(({ header, claim, value }) => {

    const now = Math.floor(Date.now() / 1000);
    return { kind: 'signed' as const, header, payload: { user_id: 'fuzz-signed', iat: now, exp: now + 600, [claim]: value } };
});


/** Requests for every documented operation, and for methods and paths the contract does not have. */
export function fuzzRequests(operations: Operation[]): fc.Arbitrary<FuzzRequest> {

    const id: fc.Arbitrary<FuzzRequest['id']> = fc.oneof(
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('own' as const), pick: fc.nat() }) },
        { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('foreign' as const, 'fresh' as const), pick: fc.nat() }) },
        { weight: 2, arbitrary: hostileText.map((value) => ({ kind: 'raw' as const, value })) },
        { weight: 1, arbitrary: fc.constantFrom('', '%zz', '%ED%A0%80', '%00', '..%2F..', '%E2%80%AE', '%C0%AF', '%', '%%', '%F4%90%80%80').map((value) => ({ kind: 'literal' as const, value })) }
    );

    const auth: fc.Arbitrary<FuzzRequest['auth']> = fc.oneof(
        { weight: 12, arbitrary: fc.constant('owner' as const) },
        { weight: 4, arbitrary: fc.constant('owner-keyset' as const) },
        { weight: 1, arbitrary: fc.constant('none' as const) },
        { weight: 2, arbitrary: tokenNoise.map((value) => ({ kind: 'raw' as const, value })) },
        { weight: 2, arbitrary: signedToken }
    );

    const actor = fc.constantFrom(0 as const, 1 as const);
    const retry = fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 15, arbitrary: fc.constant(false) });

    const contentType = fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constantFrom(null, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/merge-patch+json', '*/*', 'garbage') }
    );

    const documented = fc.constantFrom(...operations).chain((operation) => {

        return fc.record({
            method: fc.constant(operation.method),
            path: fc.constant(operation.path),
            id,
            actor,
            headers: extraHeaders,
            query: queryFor(operation.query),
            body: bodyFor(operation.body),
            contentType,
            auth,
            retry,
            follow: operation.method === 'GET' && operation.path === '/api/tasks' ? fc.boolean() : fc.constant(false)
        });
    });

    const undocumented = fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'),
        path: fc.constantFrom('/api/tasks', '/api/tasks/{id}', '/api/tasks/{id}/complete', '/api', '/api/tasks/{id}/x', '/health', '/'),
        id,
        actor,
        headers: extraHeaders,
        query: queryFor([]),
        body: bodyFor(null),
        contentType,
        auth,
        retry,
        follow: fc.constant(false)
    });

    return fc.oneof({ weight: 9, arbitrary: documented }, { weight: 1, arbitrary: undocumented });
}
