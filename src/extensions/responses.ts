import type { IncomingMessage } from 'node:http';

import Boom from '@hapi/boom';
import type { Request, ServerExtEventsRequestObject } from '@hapi/hapi';

import { rateLimitField, rateLimitHeaders } from '../rate-limits/plugin';
import { shapeError } from './errors';


const internals = {
    // A body nobody read is read to its end and dropped before the answer goes out, up to this much: then the
    // connection stays usable. Past it the client is sending far more than any request here takes, and the
    // connection is closed after the answer, as hapi does.
    maxDrainedBytes: 1024 * 1024,

    /** Whether the request came with a body that has not been read to its end (a GET with a body, a 413). */
    unreadBody(request: Request): boolean {

        const req = request.raw.req;
        const length = req.headers['content-length'];
        return !req.readableEnded && !req.destroyed &&
            ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined);
    },

    /**
     * Reads the rest of the body and drops it. Closing a connection with bytes still on their way makes the
     * system reset it, and the client may then lose the answer along with the connection.
     */
    drain(req: IncomingMessage): Promise<void> {

        return new Promise((resolve) => {

            let drained = 0;
            const done = () => {

                req.off('data', count);
                req.off('end', done);
                req.off('close', done);
                req.off('error', done);
                resolve();
            };

            const count = (chunk: Buffer) => {

                drained += chunk.length;
                if (drained > internals.maxDrainedBytes) {
                    done();
                }
            };

            req.on('data', count);
            req.once('end', done);
            req.once('close', done);
            req.once('error', done);
            req.resume();
        });
    }
};


/**
 * What every response gets on its way out: the id that every log line of the request carries, so that a client's
 * report can be matched to the logs, where the request left its budget, and for an error the API's shape. A body the route never read is drained
 * first. One extension for all of it: hapi runs each extension through its toolkit on every request.
 */
export const responseShaping: ServerExtEventsRequestObject = {
    type: 'onPreResponse',
    method(request, h) {

        const response = request.response;
        const spent = request.app.spent;
        if (!Boom.isBoom(response)) {
            response.header('X-Request-Id', request.requestId);
            if (spent) {
                // Never refused here: a refusal is an error answer, which has its headers already.
                response.header('RateLimit-Policy', spent.budget.policy);
                response.header('RateLimit', rateLimitField(spent.budget, spent.state));
            }
        }
        else {
            response.output.headers['X-Request-Id'] = request.requestId;
            if (spent) {
                Object.assign(response.output.headers, rateLimitHeaders(spent.budget, spent.state));
            }

            shapeError(request, response);
        }

        if (internals.unreadBody(request)) {
            return internals.drain(request.raw.req).then(() => h.continue);
        }

        return h.continue;
    }
};
