import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';

import { headVersion } from '../../data/change-signals';
import { readChanges } from '../../data/tasks/changes';
import type { StreamQuery } from '../../schemas/sync';
import { decodeFeedCursor } from '../../common/cursors';
import { streamQuerySchema } from '../../schemas/sync';
import { foreignCursor } from './common';
import { errorSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { errorStatuses, userIdOf } from '../tasks/common';


const internals = {
    // An open stream refused at the limit may try again once one of the user's others has ended.
    retryAfterSec: 5
};


export const streamChanges: ServerRoute<{ Query: StreamQuery }> = {
    method: 'GET',
    path: '/api/changes/stream',
    options: {
        tags: ['api', 'changes'],
        description: 'The signed-in user\'s changes as they happen, as Server-Sent Events',
        validate: {
            query: validatedBy(streamQuerySchema),
            headers: validatedBy(Joi.object({ 'last-event-id': Joi.string().min(1).max(64) }).unknown())
        },
        response: {
            status: { ...errorStatuses, 410: errorSchema },
            sample: 0
        },
        async handler(request, h) {

            const userId = userIdOf(request);
            const { streams, db } = request.server.app;
            const given = request.query.since ?? (request.headers['last-event-id'] as string | undefined);
            let version: number;
            if (given === undefined) {
                version = await headVersion(db, userId);
            }
            else {
                const decoded = decodeFeedCursor(userId, given);
                if (decoded === null) {
                    throw foreignCursor(request.query.since === undefined ? ['headers', 'last-event-id'] : ['query', 'since']);
                }

                // A cursor past what is remembered (or unknown): 410 now, rather than a stream that ends at once.
                const read = await readChanges(db, userId, decoded, 1);
                if (read.outcome === 'forgotten') {
                    throw Boom.resourceGone('This cursor is older than the changes the service still remembers (or unknown to it): sync again from the start with GET /api/changes, then stream from its cursor');
                }

                version = decoded;
            }

            if (streams.count(userId) >= request.server.app.maxStreamsPerUser) {
                const err = Boom.tooManyRequests(`Too many open streams: at most ${request.server.app.maxStreamsPerUser} per user; close one, or try again later`);
                err.output.headers['Retry-After'] = String(internals.retryAfterSec);
                throw err;
            }

            // The token's exp (validateClaims requires one).
            const exp = (request.auth.artifacts as { decoded: { payload: { exp: number } } }).decoded.payload.exp;
            const out = streams.open(userId, version, exp * 1000, () => request.raw.res.destroy());
            // Heartbeats keep it busy, but not as often as the idle timeout of a connection in the middle of a request.
            request.raw.req.socket.setTimeout(0);
            return h.response(out)
                .type('text/event-stream; charset=utf-8')
                .header('cache-control', 'no-store')
                // Each event as it is written: no compression to buffer it, no proxy buffering (nginx).
                .header('content-encoding', 'identity')
                .header('x-accel-buffering', 'no');
        }
    }
};
