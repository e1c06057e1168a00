import Joi from 'joi';
import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';


const internals = {
    body: { status: 'ok' } satisfies components['schemas']['Liveness']
};


export const liveness: ServerRoute = {
    method: 'GET',
    path: '/health/live',
    options: {
        auth: false,
        tags: ['api', 'health'],
        description: 'Liveness: the process answers (the database is not touched)',
        response: {
            status: {
                200: Joi.object<components['schemas']['Liveness'], true>({ status: Joi.string().valid('ok') }).label('Liveness')
            },
            sample: 0
        },
        handler() {

            return internals.body;
        }
    }
};
