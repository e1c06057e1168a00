import Fs from 'node:fs';
import Path from 'node:path';

import type { Boom } from '@hapi/boom';
import type { ResponseObject, Server } from '@hapi/hapi';
import Ajv2020 from 'ajv/dist/2020';
import AjvFormats from 'ajv-formats';
import Yaml from 'yaml';


interface Header {
    $ref?: string;
    required?: boolean;
    schema?: unknown;
}

interface Operation {
    responses: Record<string, { $ref?: string; headers?: Record<string, Header>; content?: Record<string, { schema?: unknown }> }>;
}


export interface CheckedResponse {
    statusCode: number;
    headers: Record<string, unknown>;
    payload: string;
}


const internals = {
    methods: ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'],
    escape: (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1')
};


export const contract = Yaml.parse(Fs.readFileSync(Path.resolve(__dirname, '..', '..', 'openapi.yaml'), 'utf8'));


const ajv = new Ajv2020({ strict: false, allErrors: true });
AjvFormats(ajv);
ajv.addSchema(contract, 'openapi');


/** Every documented operation as "METHOD /path". */
export function documentedOperations(): string[] {

    const operations: string[] = [];
    for (const [path, item] of Object.entries<Record<string, unknown>>(contract.paths)) {
        for (const method of Object.keys(item)) {
            if (internals.methods.includes(method)) {
                operations.push(`${method.toUpperCase()} ${path}`);
            }
        }
    }

    return operations.sort();
}


// A literal path wins over a template it also matches (/api/tasks/stats over /api/tasks/{id}) for the methods it
// has, as in hapi's router: PUT /api/tasks/stats is PUT /api/tasks/{id}.
const templates = Object.keys(contract.paths).sort((a, b) => a.split('{').length - b.split('{').length);


// The router strips a trailing slash, except on a DELETE (src/extensions/trailing-slash.ts): there it is no path.
function templateFor(method: string, url: string): string | null {

    const pathname = new URL(url, 'http://localhost').pathname;
    const path = method.toUpperCase() === 'DELETE' ? pathname : pathname.replace(/(.)\/$/, '$1');
    const matching = templates.filter((template) => new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$').test(path));
    return matching.find((template) => contract.paths[template][method.toLowerCase()]) ?? matching[0] ?? null;
}


/**
 * What is wrong with a response by the contract: an undocumented path, method or status, a content type or
 * body that its schema does not allow. An empty list when it conforms.
 */
export function contractViolations(method: string, url: string, response: CheckedResponse): string[] {

    const template = templateFor(method, url);
    if (!template) {
        return [`${url} matches no path in openapi.yaml`];
    }

    const lower = method.toLowerCase();
    const operation = contract.paths[template][lower] as Operation | undefined;
    if (!operation) {
        return [`${method} ${template} is not in openapi.yaml`];
    }

    const status = String(response.statusCode);
    let documented = operation.responses[status];
    if (!documented) {
        return [`${method} ${template} does not document status ${status}`];
    }

    let pointer = `#/paths/${internals.escape(template)}/${lower}/responses/${status}`;
    if (documented.$ref) {
        pointer = documented.$ref;
        const name = documented.$ref.split('/').pop()!;
        documented = contract.components.responses[name];
    }

    const headers = headerViolations(`${method} ${template} ${status}`, pointer, documented.headers ?? {}, response);
    return [...headers, ...bodyViolations(method, template, status, pointer, documented, response)];
}


/** Documented response headers: the required ones present, every one sent valid by its schema. */
function headerViolations(operation: string, pointer: string, documented: Record<string, Header>, response: CheckedResponse): string[] {

    const violations: string[] = [];
    for (const [name, header] of Object.entries(documented)) {
        const schemaPointer = header.$ref ? `${header.$ref}/schema` : `${pointer}/headers/${internals.escape(name)}/schema`;
        const resolved: Header = header.$ref ? contract.components.headers[header.$ref.split('/').pop()!] : header;
        const value = response.headers[name.toLowerCase()];
        if (value === undefined) {
            if (resolved.required) {
                violations.push(`${operation} lacks the required header ${name}`);
            }

            continue;
        }

        const validate = ajv.getSchema(`openapi${schemaPointer}`);
        if (!validate) {
            violations.push(`no schema at ${schemaPointer}`);
        }
        else if (!validate(String(value))) {
            violations.push(`${operation}: header ${name} "${value}" ${(validate.errors ?? []).map((error) => error.message).join(', ')}`);
        }
    }

    return violations;
}


function bodyViolations(method: string, template: string, status: string, pointer: string, documented: Operation['responses'][string], response: CheckedResponse): string[] {

    if (!documented.content) {
        return response.payload === '' ? [] : [`${method} ${template} ${status} has a body; the contract says none`];
    }

    const contentType = String(response.headers['content-type'] ?? '').split(';')[0];
    if (!documented.content[contentType]) {
        return [`${method} ${template} ${status} is ${contentType || 'without a content type'}; the contract says ${Object.keys(documented.content).join(' or ')}`];
    }

    if (contentType !== 'application/json') {
        return [];
    }

    const validate = ajv.getSchema(`openapi${pointer}/content/${internals.escape(contentType)}/schema`);
    if (!validate) {
        return [`no schema at ${pointer}`];
    }

    let body: unknown;
    try {
        body = JSON.parse(response.payload);
    }
    catch {
        return [`${method} ${template} ${status} body is not JSON`];
    }

    if (validate(body)) {
        return [];
    }

    return (validate.errors ?? []).map((error) => `${method} ${template} ${status}: body${error.instancePath} ${error.message}`);
}


/**
 * The operations a server has that openapi.yaml leaves out on purpose (test/contract/routes.test.ts lists them with
 * their reasons): their answers are held to nothing here.
 */
const undocumentedRoutes = ['/docs/{file}', '/swagger.json'];
const undocumentedPath = new RegExp(`^(${undocumentedRoutes.map((path) => path.replace(/\{[^}]+\}/g, '[^/]+')).join('|')})$`);


/**
 * contractViolations() for a response a test received, with what the contract does not cover left out: HEAD and
 * CORS preflights, the operations it leaves out on purpose, and the 404 of a path or method it does not have (hapi
 * answers no 405).
 */
export function receivedViolations(method: string, url: string, response: CheckedResponse): string[] {

    const upper = method.toUpperCase();
    if (upper === 'HEAD' || upper === 'OPTIONS' || undocumentedPath.test(new URL(url, 'http://localhost').pathname)) {
        return [];
    }

    const found = contractViolations(upper, url, response);
    const undocumented = found.length === 1 && /(matches no path|is not in openapi.yaml)/.test(found[0]) && response.statusCode === 404;
    return undocumented ? [] : found;
}


/**
 * Checks every response the server sends, injected or over a socket, against openapi.yaml, headers and body, as
 * receivedViolations() does: what breaks it goes on the list returned, which the caller fails its test on.
 */
export function watchResponses(server: Server): string[] {

    const violations: string[] = [];
    server.events.on('response', (request) => {

        const response = request.response as (ResponseObject & { isBoom?: false }) | (Boom & { isBoom: true }) | null;
        const method = request.method.toUpperCase();
        // A client that hung up before the answer received nothing to check.
        if (!response || !request.raw.res.headersSent) {
            return;
        }

        const statusCode = response.isBoom ? response.output.statusCode : response.statusCode;
        // A client that hung up in the middle of its answer (a stream it closed): hapi records a 499 nobody received.
        if (statusCode === 499) {
            return;
        }

        // As the client sent it: templateFor() strips a trailing slash where the router does.
        const url = request.raw.req.url ?? request.path;
        const rawHeaders = response.isBoom ? response.output.headers : response.headers;
        const headers = Object.fromEntries(Object.entries(rawHeaders).map(([name, value]) => [name.toLowerCase(), value]));
        const source: unknown = response.isBoom ? response.output.payload : response.source;
        if (source && typeof (source as { pipe?: unknown }).pipe === 'function') {
            return;                                     // A file streamed: its bytes are not the contract's business.
        }

        const payload = source === null || source === undefined ? '' : typeof source === 'string' ? source : Buffer.isBuffer(source) ? source.toString('utf8') : JSON.stringify(source);
        const found = receivedViolations(method, url, { statusCode, headers, payload });
        if (found.length) {
            violations.push(`${method} ${url} -> ${statusCode}:\n    ${found.join('\n    ')}\n    body: ${payload.slice(0, 300)}`);
        }
    });

    return violations;
}


/** Fails (throws) when any response of watchResponses() broke the contract: for a teardown, which fails its test. */
export function throwOnViolations(violations: string[]): void {

    if (violations.length) {
        throw new Error(`Responses break openapi.yaml:\n  ${violations.join('\n  ')}`);
    }
}
