import Jwt from '@hapi/jwt';

import type { AuthConfig } from '../config';


export interface MintOptions {
    userId: string;
    ttlSec: number;
    /** Which claim carries the user id: the frontend's custom tokens use user_id, standard ones sub. */
    claim?: 'user_id' | 'sub';
    issuer?: string | null;
    audience?: string | null;
    now?: Date;
}


export interface MintedToken {
    token: string;
    userId: string;
    expiresAt: Date;
}


/**
 * Signs a token the server accepts: HS256 with the shared secret, as the frontend's token route does.
 */
export function mintToken(config: Pick<AuthConfig, 'secret' | 'issuer' | 'audience'>, options: MintOptions): MintedToken {

    const nowSec = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const issuer = options.issuer === undefined ? config.issuer : options.issuer;
    const audience = options.audience === undefined ? config.audience : options.audience;

    const payload: Record<string, string | number> = {
        [options.claim ?? 'user_id']: options.userId,
        iat: nowSec,
        exp: nowSec + options.ttlSec
    };

    if (issuer) {
        payload.iss = issuer;
    }

    if (audience) {
        payload.aud = audience;
    }

    const token = Jwt.token.generate(payload, { key: config.secret, algorithm: 'HS256' });
    return { token, userId: options.userId, expiresAt: new Date((nowSec + options.ttlSec) * 1000) };
}
