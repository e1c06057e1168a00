import Boom from '@hapi/boom';
import type { Plugin, Request } from '@hapi/hapi';

import type { AuthFailureGate } from '../auth/jwt';
import type { Budget, Budgets, BudgetState } from './budgets';
import { clientAddress } from './client-address';


declare module '@hapi/hapi' {
    interface RequestApplicationState {
        /** The budget the request was counted in, and where that left it: the answer's RateLimit headers. */
        spent?: { budget: Budget; state: BudgetState };
    }
}


export interface RateLimitOptions {
    budgets: Budgets;
    trustedProxies: number;
    /** Route paths no budget applies to: the health probes, which a load balancer calls all the time. */
    unlimited: string[];
}


/** The RateLimit field: what is left of the budget, and for how long. */
export function rateLimitField(budget: Budget, state: BudgetState): string {

    return `"${budget.name}";r=${state.remaining};t=${state.resetSec}`;
}


/** The IETF RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers), and Retry-After when refused. */
export function rateLimitHeaders(budget: Budget, state: BudgetState): Record<string, string> {

    const headers: Record<string, string> = {
        'RateLimit-Policy': budget.policy,
        RateLimit: rateLimitField(budget, state)
    };

    if (!state.allowed) {
        headers['Retry-After'] = String(state.resetSec);
    }

    return headers;
}


const internals = {
    refusal(budget: Budget, state: BudgetState, detail: string): Boom.Boom {

        const err = Boom.tooManyRequests(`${detail}; try again in ${state.resetSec} s`);
        Object.assign(err.output.headers, rateLimitHeaders(budget, state));
        return err;
    },

    sayWho: {
        user: (budget: Budget) => `Too many requests: at most ${budget.quota} a minute per user`,
        address: (budget: Budget) => `Too many requests: at most ${budget.quota} a minute from one address`
    }
};


/**
 * The gate the bearer-token scheme asks about clients that fail to authenticate: an address that failed
 * AUTH_FAILURES_PER_MIN times in the window gets 429 for any token it has not used successfully before, without
 * that token being verified, until the window ends.
 */
export function authFailureGate(budget: Budget | null, trustedProxies: number): AuthFailureGate | null {

    if (!budget) {
        return null;
    }

    const detail = `Too many failed authentications from this address: at most ${budget.quota} a minute`;
    return {
        async refuse(request: Request) {

            const state = await budget.peek(clientAddress(request, trustedProxies));
            return state.remaining > 0 ? null : internals.refusal(budget, { ...state, allowed: false }, detail);
        },
        async failed(request: Request, err: Error) {

            const state = await budget.spend(clientAddress(request, trustedProxies));
            if (!state.allowed) {
                return internals.refusal(budget, state, detail);
            }

            if (Boom.isBoom(err)) {
                Object.assign(err.output.headers, rateLimitHeaders(budget, state));
            }

            return err;
        }
    };
}


/**
 * Counts every request that reaches a route against a budget: its user's once authenticated, its client address's
 * on a public route, none on the health probes. Beyond the budget the answer is 429 with Retry-After; every counted
 * answer says where the budget stands (RateLimit, RateLimit-Policy), set by the response extension.
 */
export const rateLimits: Plugin<RateLimitOptions> = {
    name: 'todo-api/rate-limits',
    register(server, { budgets, trustedProxies, unlimited }) {

        if (!budgets.user && !budgets.address) {
            return;
        }

        const skipped = new Set(unlimited);
        server.ext('onPostAuth', async (request, h) => {

            if (skipped.has(request.route.path)) {
                return h.continue;
            }

            const userId = request.auth.credentials?.user?.id;
            const budget = userId === undefined ? budgets.address : budgets.user;
            if (!budget) {
                return h.continue;
            }

            const state = await budget.spend(userId ?? clientAddress(request, trustedProxies));
            request.app.spent = { budget, state };
            if (!state.allowed) {
                throw internals.refusal(budget, state, internals.sayWho[budget.name as 'user' | 'address'](budget));
            }

            return h.continue;
        });
    }
};
