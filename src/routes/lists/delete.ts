import type { ServerRoute } from '@hapi/hapi';

import { errorSchema } from '../../schemas/tasks';
import { userIdOf } from '../tasks/common';
import { listErrorStatuses, listIfMatchOf, listRouteOptions, listWritten } from './common';


export const deleteList: ServerRoute<{ Params: { id: string } }> = {
    method: 'DELETE',
    path: '/api/lists/{id}',
    options: {
        ...listRouteOptions,
        description: 'Delete a list, moving its tasks to the trash',
        response: {
            status: { ...listErrorStatuses, 412: errorSchema },
            sample: 0
        },
        plugins: {
            'hapi-swagger': { responses: { 204: { description: 'Deleted; no body' } } }
        },
        async handler(request, h) {

            const { id } = request.params;
            listWritten(await request.server.app.lists.deleteListForUser(userIdOf(request), id, listIfMatchOf(request, id)));
            return h.response().code(204);
        }
    }
};
