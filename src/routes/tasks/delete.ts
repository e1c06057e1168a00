import type { ServerRoute } from '@hapi/hapi';

import { errorSchema } from '../../schemas/tasks';
import { errorStatuses, ifMatchOf, taskRouteOptions, userIdOf, written } from './common';


export const deleteTask: ServerRoute<{ Params: { id: string } }> = {
    method: 'DELETE',
    path: '/api/tasks/{id}',
    options: {
        ...taskRouteOptions,
        description: 'Delete a task',
        response: {
            status: { ...errorStatuses, 412: errorSchema },
            sample: 0
        },
        plugins: {
            'hapi-swagger': { responses: { 204: { description: 'Deleted; no body' } } }
        },
        async handler(request, h) {

            written(await request.server.app.tasks.deleteTaskForUser(userIdOf(request), request.params.id, ifMatchOf(request, request.params.id)));
            return h.response().code(204);
        }
    }
};
