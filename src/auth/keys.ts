import type { KeyObject } from 'node:crypto';

import type { HapiJwt } from '@hapi/jwt';

import type { AuthConfig } from '../config';
import type { JwksKeySet } from './jwks';


/** A key as @hapi/jwt takes it at run time: a secret or a node KeyObject, with the algorithms it may verify. */
export interface TrustedKey {
    key: Buffer | KeyObject;
    algorithms: HapiJwt.SupportedAlgorithm[];
    kid?: string;
}

export type KeyLookup = (artifacts: HapiJwt.Artifacts) => Promise<TrustedKey[]>;


const internals = {
    asymmetric: new Set<string>(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']),

    // JOSE ECDSA signatures are r || s at a fixed size. @hapi/jwt throws (a 500) converting any other size,
    // so a signature that cannot be one is refused here, before it is handed over.
    ecdsaSignatureBytes: { ES256: 64, ES384: 96, ES512: 132 } as Record<string, number>
};


/** True for the algorithms only the key set can verify: a token with one of these was checked against Better Auth's keys. */
export function isAsymmetric(alg: unknown): boolean {

    return typeof alg === 'string' && internals.asymmetric.has(alg);
}


/**
 * Every key a token may be verified with is decided here.
 * - The shared secret (its UTF-8 bytes, as the frontend signs with it) verifies HS256 and nothing else, and only
 *   while JWT_ALLOW_HS256 is on.
 * - Better Auth's public keys verify only asymmetric tokens that name them by kid, and only with the key's own
 *   algorithm: an HS256 token is never checked against a public key, so a public key cannot become an HMAC secret.
 * A token whose algorithm finds no key here (`none`, HS512, an unknown kid...) is refused.
 */
export function verificationKeys(config: AuthConfig, keySet: JwksKeySet | null): (TrustedKey | KeyLookup)[] {

    const keys: (TrustedKey | KeyLookup)[] = [];
    if (config.allowHs256 && config.secret) {
        keys.push({ key: config.secret, algorithms: ['HS256'] });
    }

    if (keySet) {
        keys.push(async (artifacts) => {

            const { alg, kid } = artifacts.decoded.header as { alg: string; kid?: unknown };
            if (!isAsymmetric(alg) || typeof kid !== 'string' || !kid) {
                return [];
            }

            const ecdsaBytes = internals.ecdsaSignatureBytes[alg];
            if (ecdsaBytes && Buffer.from(artifacts.raw.signature, 'base64url').length !== ecdsaBytes) {
                return [];
            }

            const found = await keySet.find(kid);
            if (!found?.algorithms.includes(alg as HapiJwt.SupportedAlgorithm)) {
                return [];
            }

            return [{ key: found.key, algorithms: [alg as HapiJwt.SupportedAlgorithm], kid }];
        });
    }

    return keys;
}
