import Boom from '@hapi/boom';
import type { AuthCredentials, Plugin, Request } from '@hapi/hapi';
import type { HapiJwt } from '@hapi/jwt';

import type { AuthConfig } from '../config';
import { unstorableText } from '../common/text';
import { JwksKeySet } from './jwks';
import { isAsymmetric, verificationKeys } from './keys';
import { VerifiedTokens } from './verified-tokens';
import type { VerifiedToken } from './verified-tokens';


declare module '@hapi/hapi' {
    interface UserCredentials {
        id: string;
    }

    interface ServerApplicationState {
        /** Better Auth's key set, when BETTER_AUTH_URL or BETTER_AUTH_JWKS_URL is set. */
        jwks: JwksKeySet | null;
    }
}


export const authStrategy = 'jwt';


/** Where clients that fail to authenticate are counted (the rate limits), when anywhere. */
export interface AuthFailureGate {
    /** The error to answer instead of verifying the request's token, when its client may try no more for now. */
    refuse(request: Request): Promise<Error | null>;
    /** Counts the failure; the error to answer with (err itself, or a refusal once the client is past its budget). */
    failed(request: Request, err: Error): Promise<Error>;
}


export type AuthOptions = AuthConfig & { failures?: AuthFailureGate | null; keySetClock?: () => number };


/** The largest Authorization header looked at: bearer tokens of ours are a few hundred bytes to a few KiB. */
export const maxAuthorizationBytes = 8 * 1024;


const internals = {
    // @hapi/jwt's own strategy: every check of a token not seen before (or no longer remembered).
    verifyingStrategy: 'jwt-verify',
    // Distinct tokens remembered at once: a few KiB each at most.
    maxVerifiedTokens: 10_000,

    whiteSpaceRx: /\s/,

    /** The token as @hapi/jwt reads it from the header, so that a remembered one is found under no other spelling. */
    bearer(header: unknown): string | null {

        if (typeof header !== 'string') {
            return null;
        }

        // What clients send: "Bearer " and a token with no white space in it, read without splitting the header.
        if (header.startsWith('Bearer ') && header.length > 7 && !internals.whiteSpaceRx.test(header.slice(7))) {
            return header.slice(7);
        }

        const parts = header.split(/\s+/);
        return parts.length === 2 && parts[0].toLowerCase() === 'bearer' && parts[1] ? parts[1] : null;
    },

    // A user id is stored and indexed with every task: it must be text PostgreSQL keeps exactly as sent (a lone
    // surrogate would become U+FFFD and could alias another id) and short enough for an index entry.
    maxUserIdLength: 255,

    claim(value: unknown): string | null {

        return typeof value === 'string' && value.length > 0 ? value : null;
    },

    userId(value: unknown): string | null {

        const id = internals.claim(value);
        return id !== null && id.length <= internals.maxUserIdLength && unstorableText(id) === null ? id : null;
    },

    normalize(value: unknown): string | null {

        return typeof value === 'string' ? value.replace(/\/+$/, '') : null;
    },

    // RFC 8725 §3.11: a token typed as something else (a logout token, an ID token...) is not an access token. No typ
    // at all is taken: Better Auth's tokens, and most frontends', carry none. Compared ignoring case and the
    // "application/" prefix, as RFC 7515 §4.1.9 asks.
    acceptedTypes: new Set(['jwt', 'at+jwt']),

    typed(typ: unknown): boolean {

        return typ === undefined || (typeof typ === 'string' && internals.acceptedTypes.has(typ.toLowerCase().replace(/^application\//, '')));
    },

    /** How a verified token is remembered: a token verified with the key set under its kid, which withdrawing the key forgets. */
    remembered(artifacts: HapiJwt.Artifacts, config: AuthConfig, keySet: JwksKeySet | null): Pick<VerifiedToken, 'untilSec' | 'kid'> {

        const untilSec = verifiedUntilSec(artifacts, config, keySet);
        const { alg, kid } = artifacts.decoded.header as { alg: string; kid?: unknown };
        return keySet && isAsymmetric(alg) && typeof kid === 'string' ? { untilSec, kid } : { untilSec };
    }
};


/**
 * Checks what @hapi/jwt leaves to the application: it verifies exp only when present and ignores iat, and the
 * expected issuer and audience depend on which key verified the token.
 */
export function validateClaims(artifacts: Pick<HapiJwt.Artifacts, 'decoded'>, config: AuthConfig, nowSec = Math.floor(Date.now() / 1000)): HapiJwt.ValidationResult {

    // RFC 7515 §4.1.11: a token that names critical extensions must be refused by a recipient that knows none.
    const header = artifacts.decoded.header as { crit?: unknown; typ?: unknown };
    if (header.crit !== undefined || !internals.typed(header.typ)) {
        return { isValid: false };
    }

    // A token lives at most maxLifetimeSec: from now (the issuer's clock may run ahead by the skew), and from its
    // own iat. A stolen token that never expires would never stop working.
    const payload = artifacts.decoded.payload as HapiJwt.Payload;
    if (typeof payload.exp !== 'number' || payload.exp > nowSec + config.maxLifetimeSec + config.clockSkewSec) {
        return { isValid: false };
    }

    if (payload.iat !== undefined &&
        (typeof payload.iat !== 'number' || payload.iat > nowSec + config.clockSkewSec || payload.exp - payload.iat > config.maxLifetimeSec)) {

        return { isValid: false };
    }

    // JWT_ISSUER / JWT_AUDIENCE bind every token; Better Auth's own tokens default to its base URL.
    const fromKeySet = isAsymmetric(artifacts.decoded.header.alg);
    const issuer = config.issuer ?? (fromKeySet ? config.jwks?.baseUrl ?? null : null);
    const audience = config.audience ?? (fromKeySet ? config.jwks?.baseUrl ?? null : null);

    if (issuer && internals.normalize(payload.iss) !== internals.normalize(issuer)) {
        return { isValid: false };
    }

    if (audience) {
        const audiences: unknown[] = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        if (!audiences.some((aud) => internals.normalize(aud) === internals.normalize(audience))) {
            return { isValid: false };
        }
    }

    // A user_id claim that is present but unusable refuses the token rather than falling back to sub.
    const userId = payload.user_id !== undefined ? internals.userId(payload.user_id) : internals.userId(payload.sub);
    if (!userId) {
        return { isValid: false };
    }

    // Becomes request.auth.credentials (@hapi/jwt's typings call it the user itself, which it is not at run time).
    const credentials: AuthCredentials = { user: { id: userId } };
    return { isValid: true, credentials: credentials as HapiJwt.ValidationResult['credentials'] };
}


/**
 * Until when a verified token may be taken as verified again: its exp (plus the skew the check tolerates), and for a
 * token signed with the key set no longer than the key set is trusted without a refresh (JWKS_MAX_AGE_S), so that the
 * token is checked against the key set again when a refresh is due, nor past the moment the key set's keys stop
 * verifying (JWKS_MAX_STALE_S after their last successful fetch).
 */
export function verifiedUntilSec(artifacts: Pick<HapiJwt.Artifacts, 'decoded'>, config: AuthConfig, keySet: Pick<JwksKeySet, 'trustedUntilSec'> | null, nowSec = Math.floor(Date.now() / 1000)): number {

    const payload = artifacts.decoded.payload as HapiJwt.Payload;
    const untilSec = (payload.exp as number) + config.clockSkewSec;
    if (!isAsymmetric(artifacts.decoded.header.alg) || !config.jwks) {
        return untilSec;
    }

    return Math.min(untilSec, nowSec + config.jwks.maxAgeSec, keySet?.trustedUntilSec() ?? Infinity);
}


/**
 * Registers the bearer-token strategy as the server's default: every route needs a valid token unless it opts out.
 * A token is verified by @hapi/jwt the first time it is seen; its verification is then remembered until the token
 * expires, and until then only its expiry is checked again.
 */
export const authPlugin: Plugin<AuthOptions> = {
    name: 'todo-api/auth',
    dependencies: ['@hapi/jwt'],
    register(server, { failures = null, keySetClock = Date.now, ...config }) {

        const keySet = config.jwks ? new JwksKeySet(config.jwks, (tags, data) => server.log(tags, data), keySetClock) : null;
        server.app.jwks = keySet;
        if (keySet) {
            // Warm the cache without holding the start: the auth server may not be up yet.
            server.ext('onPostStart', () => {

                void keySet.refresh();
            });
        }

        server.auth.strategy(internals.verifyingStrategy, 'jwt', {
            // @hapi/jwt accepts node KeyObjects and key functions side by side; its typings know neither.
            keys: verificationKeys(config, keySet) as unknown as HapiJwt.Options['keys'],
            verify: {
                aud: false,                         // Checked in validateClaims: the expected values depend on the key.
                iss: false,
                sub: false,
                nbf: true,
                exp: true,
                timeSkewSec: config.clockSkewSec
            },
            httpAuthScheme: 'Bearer',
            validate: (artifacts) => Promise.resolve(validateClaims(artifacts, config))
        });

        const verified = new VerifiedTokens(internals.maxVerifiedTokens);
        // A key withdrawn from the key set stops its remembered tokens too, at the refresh that withdraws it.
        keySet?.onKeysWithdrawn((kids) => verified.forgetKeys(kids));

        server.auth.scheme('remembered-jwt', () => ({
            async authenticate(request, h) {

                // Refused before anything decodes or verifies it.
                const authorization: unknown = request.headers.authorization;
                if (typeof authorization === 'string' && authorization.length > maxAuthorizationBytes) {
                    const err = Boom.unauthorized(null, 'Bearer');
                    return h.unauthenticated(failures ? await failures.failed(request, err) : err);
                }

                const token = internals.bearer(authorization);
                const known = token === null ? null : verified.get(token);
                if (known) {
                    return h.authenticated({ credentials: known.credentials, artifacts: known.artifacts });
                }

                // A client that failed too often is not heard until its window ends, but for tokens it has used
                // before (remembered above): someone guessing behind the same address locks out no signed-in user.
                const refused = await failures?.refuse(request);
                if (refused) {
                    return h.unauthenticated(refused);
                }

                try {
                    const { credentials, artifacts = {} } = await server.auth.test(internals.verifyingStrategy, request);
                    if (token !== null) {
                        // @hapi/jwt's artifacts, typed by hapi as a plain record.
                        const remembered = internals.remembered(artifacts as unknown as HapiJwt.Artifacts, config, keySet);
                        verified.set(token, { credentials, artifacts, ...remembered });
                    }

                    return h.authenticated({ credentials, artifacts });
                }
                catch (err) {
                    return h.unauthenticated(failures ? await failures.failed(request, err as Error) : err as Error);
                }
            }
        }));

        server.auth.strategy(authStrategy, 'remembered-jwt');
        server.auth.default(authStrategy);
    }
};
