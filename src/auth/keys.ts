import type { HapiJwt } from '@hapi/jwt';

import type { AuthConfig } from '../config';


/**
 * The keys a token may be signed with. Every verification key the service trusts is decided here.
 * The shared secret is its UTF-8 bytes, as the frontend signs with it, and it only ever verifies HS256:
 * a token claiming any other algorithm (or `none`) finds no key and is refused.
 */
export function verificationKeys(config: AuthConfig): HapiJwt.StandardKey[] {

    return [{ key: config.secret, algorithms: ['HS256'] }];
}
