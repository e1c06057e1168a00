import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import { errorSchema, taskSchema } from '../../schemas/tasks';
import { taskResponse, userIdOf } from '../tasks/common';


export const restoreTask: ServerRoute<{ Params: { id: string } }> = {
    method: 'POST',
    path: '/api/trash/{id}/restore',
    options: {
        tags: ['api', 'trash'],
        description: 'Bring a trashed task back to the list',
        response: {
            status: { 200: taskSchema, 401: errorSchema, 404: errorSchema, 409: errorSchema },
            sample: 0
        },
        async handler(request, h) {

            const { tasks, limits } = request.server.app;
            const restored = await tasks.restoreTaskForUser(userIdOf(request), request.params.id);
            if (restored === 'limit-reached') {
                throw Boom.conflict(`Task limit reached: a user can hold at most ${limits.maxTasksPerUser} tasks; delete some before restoring this one`);
            }

            if (!restored) {
                throw Boom.notFound('Task not found in the trash');
            }

            return taskResponse(h, restored);
        }
    }
};
