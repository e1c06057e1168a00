import type { ServerRoute } from '@hapi/hapi';

import type { TaskChanges } from '../../data/tasks';
import { taskChangesSchema } from '../../schemas/tasks';
import { found, taskRouteOptions, userIdOf } from './common';


export const updateTask: ServerRoute<{ Params: { id: string }; Payload: TaskChanges }> = {
    method: 'PATCH',
    path: '/api/tasks/{id}',
    options: {
        ...taskRouteOptions,
        description: 'Change only the fields sent',
        validate: {
            ...taskRouteOptions.validate,
            payload: taskChangesSchema
        },
        async handler(request) {

            const { tasks } = request.server.app;
            return found(await tasks.updateTaskForUser(userIdOf(request), request.params.id, request.payload));
        }
    }
};
