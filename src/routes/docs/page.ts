import type { ServerRoute } from '@hapi/hapi';

import { contentSecurityPolicy, docsPath, page } from './common';


export const docsPage: ServerRoute = {
    method: 'GET',
    path: docsPath,
    options: {
        auth: false,
        tags: ['api', 'docs'],
        description: 'Browsable documentation of openapi.yaml (Swagger UI)',
        handler(_request, h) {

            return h.response(page)
                .type('text/html; charset=utf-8')
                .header('Content-Security-Policy', contentSecurityPolicy);
        }
    }
};
