import type { ServerRoute } from '@hapi/hapi';

import { found, taskRouteOptions, userIdOf } from './common';


export const getTask: ServerRoute<{ Params: { id: string } }> = {
    method: 'GET',
    path: '/api/tasks/{id}',
    options: {
        ...taskRouteOptions,
        description: 'One task',
        async handler(request) {

            return found(await request.server.app.tasks.getTaskForUser(userIdOf(request), request.params.id));
        }
    }
};
