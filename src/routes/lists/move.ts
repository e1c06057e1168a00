import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';
import { listMoveSchema } from '../../schemas/lists';
import { validatedBy } from '../../schemas/route-validation';
import { userIdOf } from '../tasks/common';
import { listIfMatchOf, listResponse, listRouteOptions, listWritten } from './common';


export const moveList: ServerRoute<{ Params: { id: string }; Payload: components['schemas']['ListMove'] | null }> = {
    method: 'POST',
    path: '/api/lists/{id}/move',
    options: {
        ...listRouteOptions,
        description: 'Put a list right after another one (null: first)',
        validate: {
            payload: validatedBy(listMoveSchema)
        },
        async handler(request, h) {

            const { id } = request.params;
            const result = await request.server.app.lists.moveListForUser(userIdOf(request), id, request.payload?.after ?? null, listIfMatchOf(request, id));
            if (result === 'unknown-after') {
                throw Boom.badData('Validation failed', {
                    issues: [{ loc: ['body', 'after'], msg: 'after must be another of your lists, or null for first', type: 'placement.after' }]
                });
            }

            return listResponse(h, listWritten(result));
        }
    }
};
