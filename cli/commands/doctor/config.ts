import type { Config, Env } from '../../../src/config';
import { ConfigError, developmentSecretFile, parseConfig, readDevelopmentSecret, variables } from '../../../src/config';
import type { Check } from './check';
import { fail, ok } from './check';


const internals = {
    // Of a development secret's length, for one that the server's first start is still to make.
    standIn: 'a-development-secret-stands-in-here-0123'
};


/**
 * The configuration as the server reads it, or the fail that says why it cannot start. A development secret is read
 * and refused as the server does, but not made: that is the server's first start.
 */
export function configCheck(env: Env): { check: Check; config: Config | null } {

    let config: Config;
    try {
        const devFile = developmentSecretFile(env);
        config = parseConfig(devFile ? { ...env, BETTER_AUTH_SECRET: readDevelopmentSecret(devFile) ?? internals.standIn } : env);
    }
    catch (err) {
        if (err instanceof ConfigError) {
            return { check: fail('config', err.message, 'see docs/configuration.md, or .env.example'), config: null };
        }

        throw err;
    }

    const set = Object.keys(env).filter((name) => Object.hasOwn(variables, name) && env[name]?.trim());
    return { check: ok('config', `valid (${set.length} variable${set.length === 1 ? '' : 's'} set)`), config };
}
