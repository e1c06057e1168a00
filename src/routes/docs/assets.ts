import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import { distFiles, docsPath, initializer, initializerName, swaggerUiDir } from './common';


/**
 * The documentation page's own files. Not in openapi.yaml: they are part of the page, not of the API, and the
 * contract's generated client types would offer them to the frontend.
 */
export const docsAssets: ServerRoute<{ Params: { file: string } }> = {
    method: 'GET',
    path: `${docsPath}/{file}`,
    options: {
        auth: false,
        tags: ['docs'],
        description: 'The documentation page\'s scripts, styles and icons',
        // Revalidated on every load (ETag, 304), so a new swagger-ui-dist shows up at once.
        cache: {
            otherwise: 'no-cache'
        },
        handler(request, h) {

            const { file } = request.params;
            if (file === initializerName) {
                return h.response(initializer.body)
                    .type(initializer.type)
                    .etag(initializer.etag);
            }

            const path = distFiles.get(file);
            if (!path) {
                throw Boom.notFound();
            }

            return h.file(path, { confine: swaggerUiDir });
        }
    }
};
