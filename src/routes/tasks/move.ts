import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';
import { taskMoveSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { ifMatchOf, placed, placingTaskRouteOptions, taskResponse, userIdOf, written } from './common';


export const moveTask: ServerRoute<{ Params: { id: string }; Payload: components['schemas']['TaskMove'] | null }> = {
    method: 'POST',
    path: '/api/tasks/{id}/move',
    options: {
        ...placingTaskRouteOptions,
        description: 'Put a task (and its subtasks) right after a sibling, in a list and under a parent',
        validate: {
            ...placingTaskRouteOptions.validate,
            payload: validatedBy(taskMoveSchema)
        },
        async handler(request, h) {

            const { tasks } = request.server.app;
            const result = await tasks.moveTaskForUser(userIdOf(request), request.params.id, request.payload ?? {}, ifMatchOf(request, request.params.id));
            return taskResponse(h, written(placed(request, result)));
        }
    }
};
