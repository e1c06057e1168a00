import type { ServerRoute } from '@hapi/hapi';

import { entityTag, ifNoneMatchHolds } from '../../common/entity-tags';
import { found, headerOf, taskResponse, taskRouteOptions, userIdOf, withEntityTag } from './common';


export const getTask: ServerRoute<{ Params: { id: string } }> = {
    method: 'GET',
    path: '/api/tasks/{id}',
    options: {
        ...taskRouteOptions,
        description: 'One task; 304 when If-None-Match names its current ETag',
        async handler(request, h) {

            const task = found(await request.server.app.tasks.getTaskForUser(userIdOf(request), request.params.id));
            // Made once: it is both the condition's operand and the answer's header.
            const tag = entityTag(task);
            if (ifNoneMatchHolds(headerOf(request, 'if-none-match'), tag)) {
                return withEntityTag(h.response().code(304), task, tag);
            }

            return taskResponse(h, task, tag);
        }
    }
};
