import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';
import { listPatchSchema } from '../../schemas/lists';
import { validatedBy } from '../../schemas/route-validation';
import { userIdOf } from '../tasks/common';
import { listIfMatchOf, listResponse, listRouteOptions, listWritten } from './common';


export const updateList: ServerRoute<{ Params: { id: string }; Payload: components['schemas']['ListPatch'] }> = {
    method: 'PATCH',
    path: '/api/lists/{id}',
    options: {
        ...listRouteOptions,
        description: 'Rename a list',
        validate: {
            payload: validatedBy(listPatchSchema)
        },
        async handler(request, h) {

            const { id } = request.params;
            const result = await request.server.app.lists.renameListForUser(userIdOf(request), id, request.payload.name, listIfMatchOf(request, id));
            return listResponse(h, listWritten(result));
        }
    }
};
