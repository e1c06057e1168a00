import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import { errorSchema } from '../../schemas/tasks';
import { userIdOf } from '../tasks/common';


export const purgeTask: ServerRoute<{ Params: { id: string } }> = {
    method: 'DELETE',
    path: '/api/trash/{id}',
    options: {
        tags: ['api', 'trash'],
        description: 'Remove a trashed task for good',
        response: {
            status: { 401: errorSchema, 404: errorSchema },
            sample: 0
        },
        plugins: {
            'hapi-swagger': { responses: { 204: { description: 'Removed for good; no body' } } }
        },
        async handler(request, h) {

            if (!await request.server.app.tasks.purgeTaskForUser(userIdOf(request), request.params.id)) {
                throw Boom.notFound('Task not found in the trash');
            }

            return h.response().code(204);
        }
    }
};
