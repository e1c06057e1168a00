import type { ServerRoute } from '@hapi/hapi';

import type { TaskFields } from '../../common/tasks';
import { taskFieldsSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { ifMatchOf, placed, placingTaskRouteOptions, taskResponse, userIdOf, written } from './common';


export const replaceTask: ServerRoute<{ Params: { id: string }; Payload: TaskFields }> = {
    method: 'PUT',
    path: '/api/tasks/{id}',
    options: {
        ...placingTaskRouteOptions,
        description: 'Replace a task\'s editable fields; optional ones left out return to their defaults',
        validate: {
            ...placingTaskRouteOptions.validate,
            payload: validatedBy(taskFieldsSchema)
        },
        async handler(request, h) {

            const { tasks } = request.server.app;
            const result = await tasks.replaceTaskForUser(userIdOf(request), request.params.id, request.payload, ifMatchOf(request, request.params.id));
            return taskResponse(h, written(placed(request, result)));
        }
    }
};
