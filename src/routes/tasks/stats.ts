import type { ServerRoute } from '@hapi/hapi';

import { errorSchema, taskStatsSchema } from '../../schemas/tasks';
import { userIdOf } from './common';


export const taskStats: ServerRoute = {
    method: 'GET',
    path: '/api/tasks/stats',
    options: {
        tags: ['api', 'tasks'],
        description: 'Counts of the signed-in user\'s tasks: total, pending, completed, overdue',
        response: {
            status: { 200: taskStatsSchema, 401: errorSchema },
            sample: 0
        },
        async handler(request) {

            return await request.server.app.tasks.taskStatsForUser(userIdOf(request));
        }
    }
};
