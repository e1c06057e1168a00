import Joi from 'joi';
import type { ServerRoute } from '@hapi/hapi';

import type { components } from '../../generated/openapi';


type Schemas = components['schemas'];

const jwks = Joi.string().valid('ok', 'stale', 'expired', 'unreachable', 'disabled');


export const readiness: ServerRoute = {
    method: 'GET',
    path: '/health',
    options: {
        auth: false,
        tags: ['api', 'health'],
        description: 'Readiness: the process and its database answer',
        response: {
            status: {
                200: Joi.object<Schemas['Health'], true>({
                    status: Joi.string().valid('ok'),
                    database: Joi.string().valid('ok'),
                    version: Joi.string(),
                    jwks
                }).label('Health'),
                503: Joi.object<Schemas['HealthUnavailable'], true>({
                    status: Joi.string().valid('unavailable'),
                    database: Joi.string().valid('unreachable'),
                    jwks
                }).label('HealthUnavailable')
            },
            sample: 0
        },
        async handler(request, h) {

            const { db, version, probeTimeoutMs } = request.server.app;

            // Reported, never a reason to fail: tokens signed with the shared secret keep working, and known keys until
            // JWKS_MAX_STALE_S.
            const jwksState = request.server.app.jwks?.state() ?? 'disabled';
            try {
                await db.probe(probeTimeoutMs);
            }
            catch (err) {
                request.log(['warn', 'health'], { msg: 'database unreachable', err });
                const body: Schemas['HealthUnavailable'] = { status: 'unavailable', database: 'unreachable', jwks: jwksState };
                return h.response(body).code(503);
            }

            const body: Schemas['Health'] = { status: 'ok', database: 'ok', version, jwks: jwksState };
            return body;
        }
    }
};
