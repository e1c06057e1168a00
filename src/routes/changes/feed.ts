import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import type { ChangesQuery } from '../../schemas/sync';
import { decodeFeedCursor, encodeFeedCursor } from '../../common/cursors';
import { changePageSchema, changesQuerySchema } from '../../schemas/sync';
import { changeBody } from '../../streams/change-body';
import { foreignCursor } from './common';
import { errorSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { errorStatuses, userIdOf } from '../tasks/common';


export const listChanges: ServerRoute<{ Query: ChangesQuery }> = {
    method: 'GET',
    path: '/api/changes',
    options: {
        tags: ['api', 'changes'],
        description: 'What changed in the signed-in user\'s tasks after a cursor (from the start without one)',
        validate: {
            query: validatedBy(changesQuerySchema)
        },
        response: {
            status: { 200: changePageSchema, ...errorStatuses, 410: errorSchema },
            sample: 0
        },
        async handler(request) {

            const userId = userIdOf(request);
            const { since, limit } = request.query;
            const version = since === undefined ? null : decodeFeedCursor(userId, since);
            if (since !== undefined && version === null) {
                throw foreignCursor();
            }

            const read = await request.server.app.tasks.changesForUser(userId, version, limit);
            if (read.outcome === 'forgotten') {
                throw Boom.resourceGone('This cursor is older than the changes the service still remembers (or unknown to it): sync again from the start, without since');
            }

            return { changes: read.changes.map(changeBody), cursor: encodeFeedCursor(userId, read.version), has_more: read.more };
        }
    }
};
