import Fs from 'node:fs';
import Path from 'node:path';

import type { ServerRoute } from '@hapi/hapi';


export const contractPath = Path.resolve(__dirname, '..', '..', '..', 'openapi.yaml');


const internals = {
    contract: Fs.readFileSync(contractPath, 'utf8')
};


export const contract: ServerRoute = {
    method: 'GET',
    path: '/openapi.yaml',
    options: {
        auth: false,
        tags: ['api', 'docs'],
        description: 'The API contract (OpenAPI 3.1), as written',
        handler(_request, h) {

            return h.response(internals.contract).type('application/yaml; charset=utf-8');
        }
    }
};
