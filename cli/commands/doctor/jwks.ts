import { JwksFetchError, fetchJwks, jwksFailureReason, minRsaModulusBits } from '../../../src/auth/jwks';
import type { Check, Deployment } from './check';
import { fail, ok, warn } from './check';


/**
 * Whether Better Auth's key set answers with usable keys, fetched as the server fetches it (the same function and
 * JWKS_TIMEOUT_MS), so that what the server refuses (a redirect, a weak key...) is refused here too.
 */
export async function jwksCheck({ config }: Deployment): Promise<Check> {

    const jwks = config.auth.jwks;
    if (!jwks) {
        return ok('jwks', 'no key set configured (BETTER_AUTH_URL unset): HS256 tokens only');
    }

    const problem = (detail: string): Check => {

        return config.auth.allowHs256 ?
            warn('jwks', `${detail}: Better Auth's own tokens are refused until it answers (HS256 tokens still work)`, 'check BETTER_AUTH_URL / BETTER_AUTH_JWKS_URL and that the auth server is up') :
            fail('jwks', `${detail}: with JWT_ALLOW_HS256=false no token can be verified`, 'check BETTER_AUTH_URL / BETTER_AUTH_JWKS_URL and that the auth server is up');
    };

    try {
        const { keys, skipped, shortRsa } = await fetchJwks(jwks.url, jwks.timeoutMs);
        const short = shortRsa.length ? `; RSA keys under ${minRsaModulusBits} bits: ${shortRsa.map(({ kid, bits }) => `${kid} (${bits})`).join(', ')}` : '';
        if (!keys.size) {
            return problem(`${jwks.url} holds no usable signing key${skipped ? ` (${skipped} skipped${short})` : ''}`);
        }

        return ok('jwks', `${keys.size} key${keys.size > 1 ? 's' : ''} at ${jwks.url} (${[...keys.keys()].join(', ')})${skipped ? `, ${skipped} unusable entries skipped${short}` : ''}`);
    }
    catch (err) {
        if (err instanceof JwksFetchError) {
            return problem(`${jwks.url} answered ${err.message}`);
        }

        // fetch's own "fetch failed" says less than the code of its cause (ECONNREFUSED, ENOTFOUND...).
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        return problem(`${jwks.url} cannot be fetched: ${cause ?? jwksFailureReason(err, jwks.timeoutMs)}`);
    }
}
