import Crypto from 'node:crypto';

import Jwt from '@hapi/jwt';
import type { HapiJwt } from '@hapi/jwt';

import type { AuthConfig } from '../config';
import { jwkAlgorithms, minRsaModulusBits, shortRsaModulus } from './jwks';


export interface SigningKey {
    key: Buffer | Crypto.KeyObject;
    algorithm: HapiJwt.SupportedAlgorithm;
    kid?: string;
}


export interface MintOptions {
    userId: string;
    ttlSec: number;
    /** Which claim carries the user id: the frontend's custom tokens use user_id, standard ones sub. */
    claim?: 'user_id' | 'sub';
    /** Defaults: JWT_ISSUER / JWT_AUDIENCE, else Better Auth's base URL for tokens signed with a private key. */
    issuer?: string | null;
    audience?: string | null;
    /** Sign with this private key (as Better Auth does) instead of the shared secret. */
    signingKey?: SigningKey;
    now?: Date;
}


export interface MintedToken {
    token: string;
    userId: string;
    expiresAt: Date;
}


/** A private JWK (OKP, RSA or EC) as a signing key; its alg and kid are used when it has them. */
export function signingKeyFromJwk(jwk: Crypto.JsonWebKey & { alg?: string; kid?: string }): SigningKey {

    if (!jwk || typeof jwk !== 'object' || typeof jwk.d !== 'string') {
        throw new Error('the key is not a private JWK (it has no "d")');
    }

    const algorithms = jwkAlgorithms(jwk);
    if (!algorithms) {
        throw new Error(`a ${jwk.kty}${jwk.crv ? ` (${jwk.crv})` : ''} key${jwk.alg ? ` with alg ${jwk.alg}` : ''} cannot sign tokens here`);
    }

    const key = Crypto.createPrivateKey({ key: jwk, format: 'jwk' });
    const bits = shortRsaModulus(key);
    if (bits !== null) {
        throw new Error(`an RSA key of ${bits} bits is too short to sign with: the key set refuses RSA keys under ${minRsaModulusBits} bits`);
    }

    return { key, algorithm: algorithms[0], kid: typeof jwk.kid === 'string' ? jwk.kid : undefined };
}


/**
 * Signs a token the server accepts: HS256 with the shared secret, as the frontend's token route does, or with a
 * private key in Better Auth's form (kid in the header, no typ).
 */
export function mintToken(config: Pick<AuthConfig, 'secret' | 'issuer' | 'audience'> & Partial<Pick<AuthConfig, 'jwks'>>, options: MintOptions): MintedToken {

    const signing = options.signingKey;
    if (!signing && !config.secret) {
        throw new Error('BETTER_AUTH_SECRET is not set, so there is no shared secret to sign with');
    }

    const nowSec = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const fallback = signing ? config.jwks?.baseUrl ?? null : null;
    const issuer = options.issuer === undefined ? config.issuer ?? fallback : options.issuer;
    const audience = options.audience === undefined ? config.audience ?? fallback : options.audience;

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

    const token = signing ?
        Jwt.token.generate(payload, { key: signing.key as unknown as Buffer, algorithm: signing.algorithm }, { typ: false, header: signing.kid ? { kid: signing.kid } : {} }) :
        Jwt.token.generate(payload, { key: config.secret!, algorithm: 'HS256' });

    return { token, userId: options.userId, expiresAt: new Date((nowSec + options.ttlSec) * 1000) };
}
