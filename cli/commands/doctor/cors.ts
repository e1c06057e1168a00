import { isProduction } from '../../../src/config';
import type { Check, Deployment } from './check';
import { ok, warn } from './check';


export function corsCheck({ config, env }: Deployment): Check {

    if (isProduction(env)) {
        const local = config.corsOrigins.filter((origin) => /^https?:\/\/(localhost|127\.|\[::1\])/.test(origin));
        if (local.length) {
            return warn('cors', `NODE_ENV=production allows development origins: ${local.join(', ')}`, 'set CORS_ORIGINS to the frontend\'s origin(s)');
        }

        const plain = config.corsOrigins.filter((origin) => origin.startsWith('http://'));
        if (plain.length) {
            return warn('cors', `origins without TLS: ${plain.join(', ')}`, 'serve the frontend over https and list its https:// origin');
        }
    }

    return config.corsOrigins.length ?
        ok('cors', `browsers may call from ${config.corsOrigins.join(', ')}`) :
        warn('cors', 'CORS_ORIGINS lists no origin: no browser frontend can call the API', 'set CORS_ORIGINS to the frontend\'s origin');
}
