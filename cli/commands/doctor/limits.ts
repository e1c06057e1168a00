import { isProduction } from '../../../src/config';
import { probeBudgetStore } from '../../../src/rate-limits/budgets';
import type { Check, Deployment } from './check';
import { ok, reason, warn } from './check';


const internals = {
    probeTimeoutMs: 3000
};


/** What limits a client, and whether the store shared by the replicas answers. */
export async function limitsCheck({ config, env }: Deployment): Promise<Check> {

    const { perMinute, authFailuresPerMinute, redisUrl, trustedProxies } = config.rateLimits;
    if (!perMinute && !authFailuresPerMinute) {
        return isProduction(env) ?
            warn('limits', 'RATE_LIMIT_PER_MIN and AUTH_FAILURES_PER_MIN are 0: nothing limits what one client spends', 'set them, unless a gateway in front limits each user and address') :
            ok('limits', 'no rate limits (RATE_LIMIT_PER_MIN and AUTH_FAILURES_PER_MIN are 0)');
    }

    const budgets = `${perMinute || 'no limit of'} requests a minute per user, ${authFailuresPerMinute || 'no limit of'} failed authentications per address, ${trustedProxies} trusted prox${trustedProxies === 1 ? 'y' : 'ies'}`;
    if (!redisUrl) {
        return ok('limits', `${budgets}; counted in ${config.workers > 1 ? 'the primary, for its workers' : 'the process'} (each replica on its own: RATE_LIMIT_REDIS_URL shares them)`);
    }

    const where = new URL(redisUrl);
    try {
        await probeBudgetStore(redisUrl, internals.probeTimeoutMs);
        return ok('limits', `${budgets}; counted in Redis at ${where.hostname}:${where.port || 6379}, which answers`);
    }
    catch (err) {
        return warn('limits', `Redis at ${where.hostname}:${where.port || 6379} (RATE_LIMIT_REDIS_URL) cannot be reached: ${reason(err)}; each process counts on its own meanwhile`,
            'check RATE_LIMIT_REDIS_URL and that Redis accepts connections from here');
    }
}
