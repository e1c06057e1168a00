import type { ServerRoute } from '@hapi/hapi';

import type { ClearTasksQuery } from '../../schemas/tasks';
import { clearTasksQuerySchema, clearedTasksSchema, errorSchema, validationErrorSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { userIdOf } from './common';


export const clearCompletedTasks: ServerRoute<{ Query: ClearTasksQuery }> = {
    method: 'DELETE',
    path: '/api/tasks',
    options: {
        tags: ['api', 'tasks'],
        description: 'Delete the signed-in user\'s completed tasks (status=completed is required)',
        validate: {
            query: validatedBy(clearTasksQuerySchema)
        },
        response: {
            status: { 200: clearedTasksSchema, 401: errorSchema, 422: validationErrorSchema },
            sample: 0
        },
        async handler(request) {

            return { deleted: await request.server.app.tasks.clearCompletedTasksForUser(userIdOf(request)) };
        }
    }
};
