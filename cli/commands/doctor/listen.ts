import { isProduction } from '../../../src/config';
import type { Check, Deployment } from './check';
import { ok, warn } from './check';


export function listenCheck({ config, env }: Deployment): Check {

    const all = config.host === '0.0.0.0' || config.host === '::';
    if (!all && isProduction(env) && /^(127\.|localhost$|::1$)/.test(config.host)) {
        return warn('listen', `HOST=${config.host}: only this machine can connect`,
            'in a container or behind a proxy on another host, set HOST=0.0.0.0');
    }

    return ok('listen', `${config.host}:${config.port}${all ? ' (every interface)' : ''}, ${config.workers} process${config.workers > 1 ? 'es' : ''}`);
}
