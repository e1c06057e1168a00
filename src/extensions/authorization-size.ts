import Boom from '@hapi/boom';
import type { ServerExtEventsRequestObject } from '@hapi/hapi';


export const maxAuthorizationBytes = 8 * 1024;


/**
 * Refuses an Authorization header larger than any bearer token of ours (a few hundred bytes to a few KiB) before
 * anything decodes or verifies it.
 */
export const authorizationSizeLimit: ServerExtEventsRequestObject = {
    type: 'onPreAuth',
    method(request, h) {

        // hapi's typings do not allow `false`, which is what a public route's auth setting is at run time.
        const authorization: unknown = request.headers.authorization;
        if (typeof authorization === 'string' && authorization.length > maxAuthorizationBytes &&
            (request.route.settings.auth as unknown) !== false) {

            throw Boom.unauthorized(null, 'Bearer');
        }

        return h.continue;
    }
};
