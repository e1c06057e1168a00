import type { ServerRoute } from '@hapi/hapi';

import type { TaskChanges } from '../../common/tasks';
import { taskChangesSchema } from '../../schemas/tasks';
import { conditionalTaskRouteOptions, ifMatchOf, taskResponse, userIdOf, written } from './common';


export const updateTask: ServerRoute<{ Params: { id: string }; Payload: TaskChanges }> = {
    method: 'PATCH',
    path: '/api/tasks/{id}',
    options: {
        ...conditionalTaskRouteOptions,
        description: 'Change only the fields sent',
        validate: {
            ...conditionalTaskRouteOptions.validate,
            payload: taskChangesSchema
        },
        async handler(request, h) {

            const { tasks } = request.server.app;
            const result = await tasks.updateTaskForUser(userIdOf(request), request.params.id, request.payload, ifMatchOf(request, request.params.id));
            return taskResponse(h, written(result));
        }
    }
};
