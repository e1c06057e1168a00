import type { ServerRoute } from '@hapi/hapi';

import { errorStatuses, taskNotFound, taskRouteOptions, userIdOf } from './common';


export const deleteTask: ServerRoute<{ Params: { id: string } }> = {
    method: 'DELETE',
    path: '/api/tasks/{id}',
    options: {
        ...taskRouteOptions,
        description: 'Delete a task',
        response: {
            status: errorStatuses,
            sample: 0
        },
        plugins: {
            'hapi-swagger': { responses: { 204: { description: 'Deleted; no body' } } }
        },
        async handler(request, h) {

            if (!await request.server.app.tasks.deleteTaskForUser(userIdOf(request), request.params.id)) {
                throw taskNotFound();
            }

            return h.response().code(204);
        }
    }
};
