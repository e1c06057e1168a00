import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';
import { taskCompletionSchema } from '../../schemas/tasks';
import { found, taskRouteOptions, userIdOf } from './common';


export const completeTask: ServerRoute<{ Params: { id: string }; Payload: components['schemas']['TaskCompletion'] | null }> = {
    method: 'PATCH',
    path: '/api/tasks/{id}/complete',
    options: {
        ...taskRouteOptions,
        description: 'Toggle completion (no body), or set it with {"completed": true|false}',
        validate: {
            ...taskRouteOptions.validate,
            payload: taskCompletionSchema
        },
        async handler(request) {

            const { tasks } = request.server.app;
            const completed = request.payload?.completed;
            return found(await tasks.setTaskCompletionForUser(userIdOf(request), request.params.id, completed));
        }
    }
};
