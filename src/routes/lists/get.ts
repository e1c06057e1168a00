import type { ServerRoute } from '@hapi/hapi';

import { entityTag, ifNoneMatchHolds } from '../../common/entity-tags';
import { headerOf, userIdOf, withEntityTag } from '../tasks/common';
import { listResponse, listRouteOptions, listWritten } from './common';


export const getList: ServerRoute<{ Params: { id: string } }> = {
    method: 'GET',
    path: '/api/lists/{id}',
    options: {
        ...listRouteOptions,
        description: 'One list; 304 when If-None-Match names its current ETag',
        async handler(request, h) {

            const list = listWritten(await request.server.app.lists.getListForUser(userIdOf(request), request.params.id));
            const tag = entityTag(list);
            if (ifNoneMatchHolds(headerOf(request, 'if-none-match'), tag)) {
                return withEntityTag(h.response().code(304), list, tag);
            }

            return listResponse(h, list, tag);
        }
    }
};
