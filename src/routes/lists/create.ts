import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';
import { listCreateSchema, listSchema } from '../../schemas/lists';
import { errorSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { userIdOf } from '../tasks/common';
import { listErrorStatuses, listResponse } from './common';


export const createList: ServerRoute<{ Payload: components['schemas']['ListCreate'] }> = {
    method: 'POST',
    path: '/api/lists',
    options: {
        tags: ['api', 'lists'],
        description: 'Create a list, last among the user\'s',
        validate: {
            payload: validatedBy(listCreateSchema)
        },
        response: {
            status: { 201: listSchema, ...listErrorStatuses, 409: errorSchema },
            sample: 0
        },
        async handler(request, h) {

            const { lists, limits } = request.server.app;
            const list = await lists.createListForUser(userIdOf(request), request.payload.name);
            if (list === 'limit-reached') {
                throw Boom.conflict(`List limit reached: a user can hold at most ${limits.maxListsPerUser} lists; delete some first`);
            }

            return listResponse(h, list).code(201).location(`/api/lists/${list.id}`);
        }
    }
};
