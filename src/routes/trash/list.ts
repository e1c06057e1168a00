import type { ServerRoute } from '@hapi/hapi';

import type { TrashQuery } from '../../schemas/sync';
import { encodeTrashCursor } from '../../common/cursors';
import { trashListSchema, trashQuerySchema } from '../../schemas/sync';
import { validatedBy } from '../../schemas/route-validation';
import { errorStatuses, userIdOf } from '../tasks/common';


export const listTrash: ServerRoute<{ Query: TrashQuery }> = {
    method: 'GET',
    path: '/api/trash',
    options: {
        tags: ['api', 'trash'],
        description: 'The signed-in user\'s trashed tasks, most recently deleted first',
        notes: 'When more tasks follow, X-Next-Cursor and Link (rel="next") point at the next page.',
        validate: {
            query: validatedBy(trashQuerySchema)
        },
        response: {
            status: { 200: trashListSchema, ...errorStatuses },
            sample: 0
        },
        async handler(request, h) {

            const { limit, cursor } = request.query;
            const page = await request.server.app.tasks.listTrashForUser(userIdOf(request), { limit, after: cursor });
            const response = h.response(page.tasks);
            if (page.next !== null) {
                const next = encodeTrashCursor(page.next);
                const query = new URLSearchParams(request.url.search);
                query.set('cursor', next);
                response.header('X-Next-Cursor', next);
                response.header('Link', `<${request.path}?${query}>; rel="next"`);
            }

            return response;
        }
    }
};
