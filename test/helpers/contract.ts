import Fs from 'node:fs';
import Path from 'node:path';

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


/** The documented response headers: the required ones present, and every one present as its schema says. */
function headerViolations(where: string, responsePointer: string, documented: Record<string, Header>, actual: Record<string, unknown>): string[] {

    const violations: string[] = [];
    const received = Object.fromEntries(Object.entries(actual).map(([name, value]) => [name.toLowerCase(), value]));
    for (const [name, declared] of Object.entries(documented)) {
        let header = declared;
        let pointer = `${responsePointer}/headers/${internals.escape(name)}`;
        if (declared.$ref) {
            pointer = declared.$ref;
            header = contract.components.headers[declared.$ref.split('/').pop()!];
        }

        const value = received[name.toLowerCase()];
        if (value === undefined) {
            if (header.required) {
                violations.push(`${where} lacks the ${name} header`);
            }

            continue;
        }

        const validate = header.schema ? ajv.getSchema(`openapi${pointer}/schema`) : undefined;
        if (validate && !validate(String(value))) {
            violations.push(`${where}: header ${name} ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`);
        }
    }

    return violations;
}


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


function templateFor(url: string): string | null {

    const path = new URL(url, 'http://localhost').pathname.replace(/(.)\/$/, '$1');
    for (const template of Object.keys(contract.paths)) {
        const rx = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
        if (rx.test(path)) {
            return template;
        }
    }

    return null;
}


/**
 * What is wrong with a response by the contract: an undocumented path, method or status, a content type or
 * body that its schema does not allow. An empty list when it conforms.
 */
export function contractViolations(method: string, url: string, response: CheckedResponse): string[] {

    const template = templateFor(url);
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

    const wrongHeaders = headerViolations(`${method} ${template} ${status}`, pointer, documented.headers ?? {}, response.headers);
    if (wrongHeaders.length) {
        return wrongHeaders;
    }

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
