import { isProduction } from '../../../src/config';
import type { Check, Deployment } from './check';
import { ok, warn } from './check';


/** RFC 8725 §3.9: a token signed with the shared secret for another of the frontend's purposes is not ours. */
export function audienceCheck({ config, env }: Deployment): Check {

    const bound = [config.auth.audience && `aud ${config.auth.audience}`, config.auth.issuer && `iss ${config.auth.issuer}`].filter(Boolean);
    if (bound.length) {
        return ok('audience', `every token must carry ${bound.join(' and ')}`);
    }

    if (config.auth.allowHs256 && isProduction(env)) {
        return warn('audience', 'HS256 is on with neither JWT_AUDIENCE nor JWT_ISSUER: any token signed with BETTER_AUTH_SECRET, for whatever purpose, is taken',
            'sign aud (and iss) into the frontend\'s tokens for this API and set JWT_AUDIENCE (and JWT_ISSUER) to match');
    }

    return ok('audience', config.auth.allowHs256 ? 'no aud or iss required of HS256 tokens' : 'key-set tokens must carry Better Auth\'s iss and aud');
}
