import Boom from '@hapi/boom';
import type { ServerExtEventsRequestObject } from '@hapi/hapi';

import { shapeError } from './errors';


/**
 * What every response gets on its way out: the id that every log line of the request carries, so that a client's
 * report can be matched to the logs, and for an error the API's shape. One extension for both: hapi runs each
 * extension through its toolkit on every request.
 */
export const responseShaping: ServerExtEventsRequestObject = {
    type: 'onPreResponse',
    method(request, h) {

        const response = request.response;
        if (!Boom.isBoom(response)) {
            response.header('X-Request-Id', request.info.id);
            return h.continue;
        }

        response.output.headers['X-Request-Id'] = request.info.id;
        shapeError(request, response);
        return h.continue;
    }
};
