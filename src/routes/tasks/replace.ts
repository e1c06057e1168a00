import type { ServerRoute } from '@hapi/hapi';

import type { TaskFields } from '../../data/tasks';
import { taskFieldsSchema } from '../../schemas/tasks';
import { found, taskRouteOptions, userIdOf } from './common';


export const replaceTask: ServerRoute<{ Params: { id: string }; Payload: TaskFields }> = {
    method: 'PUT',
    path: '/api/tasks/{id}',
    options: {
        ...taskRouteOptions,
        description: 'Replace a task\'s editable fields; optional ones left out return to their defaults',
        validate: {
            ...taskRouteOptions.validate,
            payload: taskFieldsSchema
        },
        async handler(request) {

            const { tasks } = request.server.app;
            return found(await tasks.replaceTaskForUser(userIdOf(request), request.params.id, request.payload));
        }
    }
};
