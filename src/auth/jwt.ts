import type { AuthCredentials, Plugin } from '@hapi/hapi';
import type { HapiJwt } from '@hapi/jwt';

import type { AuthConfig } from '../config';
import { verificationKeys } from './keys';


declare module '@hapi/hapi' {
    interface UserCredentials {
        id: string;
    }
}


export const authStrategy = 'jwt';


const internals = {
    claim(value: unknown): string | null {

        return typeof value === 'string' && value.length > 0 ? value : null;
    }
};


/**
 * Checks what @hapi/jwt leaves to the application: it verifies exp only when present and ignores iat.
 */
export function validateClaims(payload: HapiJwt.Payload, clockSkewSec: number, nowSec = Math.floor(Date.now() / 1000)): HapiJwt.ValidationResult {

    if (typeof payload.exp !== 'number') {
        return { isValid: false };
    }

    if (payload.iat !== undefined &&
        (typeof payload.iat !== 'number' || payload.iat > nowSec + clockSkewSec)) {

        return { isValid: false };
    }

    const userId = internals.claim(payload.user_id) ?? internals.claim(payload.sub);
    if (!userId) {
        return { isValid: false };
    }

    // Becomes request.auth.credentials (@hapi/jwt's typings call it the user itself, which it is not at run time).
    const credentials: AuthCredentials = { user: { id: userId } };
    return { isValid: true, credentials: credentials as HapiJwt.ValidationResult['credentials'] };
}


/**
 * Registers the bearer-token strategy as the server's default: every route needs a valid token unless it opts out.
 */
export const authPlugin: Plugin<AuthConfig> = {
    name: 'todo-api/auth',
    dependencies: ['@hapi/jwt'],
    register(server, config) {

        server.auth.strategy(authStrategy, 'jwt', {
            keys: verificationKeys(config),
            verify: {
                aud: config.audience ?? false,
                iss: config.issuer ?? false,
                sub: false,
                nbf: true,
                exp: true,
                timeSkewSec: config.clockSkewSec
            },
            httpAuthScheme: 'Bearer',
            validate: (artifacts) => Promise.resolve(validateClaims(artifacts.decoded.payload, config.clockSkewSec))
        });

        server.auth.default(authStrategy);
    }
};

