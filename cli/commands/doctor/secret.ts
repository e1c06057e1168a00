import { developmentSecretFile } from '../../../src/config';
import type { Check, Deployment } from './check';
import { ok, warn } from './check';


const internals = {
    // A secret made of 32 random bytes is 43 characters in base64; fewer distinct characters than this is a pattern.
    strongSecretLength: 43,
    minDistinctCharacters: 16
};


export function secretCheck({ config, env }: Deployment): Check {

    const devFile = developmentSecretFile(env);
    if (!config.auth.allowHs256) {
        return ok('secret', 'HS256 is off: tokens are verified with the key set only');
    }

    if (devFile) {
        return warn('secret', `BETTER_AUTH_SECRET is not set: the server uses the development secret in ${devFile}`,
            'set BETTER_AUTH_SECRET to the frontend\'s secret for the frontend\'s tokens (a development secret is never used in production)');
    }

    const secret = config.auth.secret!.toString('utf8');
    const distinct = new Set(secret).size;
    if (secret.length < internals.strongSecretLength || distinct < internals.minDistinctCharacters) {
        return warn('secret', `BETTER_AUTH_SECRET is ${secret.length} characters, ${distinct} of them different: guessable`,
            'use 32 random bytes, e.g. openssl rand -base64 32, in the frontend and here');
    }

    return ok('secret', `BETTER_AUTH_SECRET is ${secret.length} characters`);
}
