import type { ServerRoute } from '@hapi/hapi';

import { clearedTasksSchema, errorSchema } from '../../schemas/tasks';
import { userIdOf } from '../tasks/common';


export const emptyTrash: ServerRoute = {
    method: 'DELETE',
    path: '/api/trash',
    options: {
        tags: ['api', 'trash'],
        description: 'Empty the signed-in user\'s trash: its tasks are removed for good',
        response: {
            status: { 200: clearedTasksSchema, 401: errorSchema },
            sample: 0
        },
        async handler(request) {

            return { deleted: await request.server.app.tasks.emptyTrashForUser(userIdOf(request)) };
        }
    }
};
