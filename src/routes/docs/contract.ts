import Fs from 'node:fs';
import Path from 'node:path';

import type { ServerRoute } from '@hapi/hapi';


const internals = {
    // The repository's openapi.yaml, whether this module runs from src/ or from the compiled dist/src/.
    find(dir: string): string {

        const candidate = Path.join(dir, 'openapi.yaml');
        if (Fs.existsSync(candidate) || Path.dirname(dir) === dir) {
            return candidate;
        }

        return internals.find(Path.dirname(dir));
    }
};


export const contractPath = internals.find(__dirname);


const contractText = Fs.readFileSync(contractPath, 'utf8');


export const contract: ServerRoute = {
    method: 'GET',
    path: '/openapi.yaml',
    options: {
        auth: false,
        tags: ['api', 'docs'],
        description: 'The API contract (OpenAPI 3.1), as written',
        handler(_request, h) {

            return h.response(contractText).type('application/yaml; charset=utf-8');
        }
    }
};
