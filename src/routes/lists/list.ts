import type { ServerRoute } from '@hapi/hapi';

import { listEntriesSchema } from '../../schemas/lists';
import { errorSchema } from '../../schemas/tasks';
import { userIdOf } from '../tasks/common';


export const listLists: ServerRoute = {
    method: 'GET',
    path: '/api/lists',
    options: {
        tags: ['api', 'lists'],
        description: 'The signed-in user\'s lists in their order, each with its pending tasks counted',
        response: {
            status: { 200: listEntriesSchema, 401: errorSchema },
            sample: 0
        },
        async handler(request) {

            return await request.server.app.lists.listsForUser(userIdOf(request));
        }
    }
};
