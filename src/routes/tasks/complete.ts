import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';
import { taskCompletionSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { conditionalTaskRouteOptions, ifMatchOf, taskResponse, userIdOf, written } from './common';


export const completeTask: ServerRoute<{ Params: { id: string }; Payload: components['schemas']['TaskCompletion'] | null }> = {
    method: 'PATCH',
    path: '/api/tasks/{id}/complete',
    options: {
        ...conditionalTaskRouteOptions,
        description: 'Toggle completion (no body), or set it with {"completed": true|false}',
        validate: {
            ...conditionalTaskRouteOptions.validate,
            payload: validatedBy(taskCompletionSchema)
        },
        async handler(request, h) {

            const { tasks } = request.server.app;
            const completed = request.payload?.completed;
            const result = await tasks.setTaskCompletionForUser(userIdOf(request), request.params.id, completed, ifMatchOf(request, request.params.id));
            return taskResponse(h, written(result));
        }
    }
};
