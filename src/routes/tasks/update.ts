import type { ServerRoute } from '@hapi/hapi';

import type { TaskChanges } from '../../common/tasks';
import { taskChangesSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { ifMatchOf, placed, placingTaskRouteOptions, taskResponse, userIdOf, written } from './common';


export const updateTask: ServerRoute<{ Params: { id: string }; Payload: TaskChanges }> = {
    method: 'PATCH',
    path: '/api/tasks/{id}',
    options: {
        ...placingTaskRouteOptions,
        description: 'Change only the fields sent',
        validate: {
            ...placingTaskRouteOptions.validate,
            payload: validatedBy(taskChangesSchema)
        },
        async handler(request, h) {

            const { tasks } = request.server.app;
            const result = await tasks.updateTaskForUser(userIdOf(request), request.params.id, request.payload, ifMatchOf(request, request.params.id));
            return taskResponse(h, written(placed(request, result)));
        }
    }
};
