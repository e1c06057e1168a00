import Boom from '@hapi/boom';
import type { ServerExtEventsRequestObject } from '@hapi/hapi';


/**
 * Echoes the id that every log line of the request carries, so a client's report can be matched to the logs.
 */
export const requestIdHeader: ServerExtEventsRequestObject = {
    type: 'onPreResponse',
    method(request, h) {

        const response = request.response;
        if (Boom.isBoom(response)) {
            response.output.headers['X-Request-Id'] = request.info.id;
        }
        else {
            response.header('X-Request-Id', request.info.id);
        }

        return h.continue;
    }
};
