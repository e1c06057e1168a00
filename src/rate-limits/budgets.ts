import Cluster from 'node:cluster';

import Redis from 'ioredis';
import { RateLimiterCluster, RateLimiterClusterMaster, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

import type { RateLimitConfig } from '../config';


/** Where a key stands in its budget after a request was counted (or looked at). */
export interface BudgetState {
    allowed: boolean;
    /** Requests left in the current window. */
    remaining: number;
    /** Seconds until the window ends and the budget is whole again. */
    resetSec: number;
}


export interface BudgetLog {
    (tags: string[], data: object): void;
}


/** The budgets of one server process, and how to let go of their store. */
export interface Budgets {
    /** Requests a user makes (RATE_LIMIT_PER_MIN). */
    user: Budget | null;
    /** Requests a client address makes to the public routes, health probes aside (RATE_LIMIT_PER_MIN). */
    address: Budget | null;
    /** Failed authentications from a client address (AUTH_FAILURES_PER_MIN). */
    authFailures: Budget | null;
    close(): Promise<void>;
}


const internals = {
    windowSec: 60,
    keyPrefix: 'todo-api-rate',
    // A worker's question to the primary's budgets, or to Redis, that takes longer than this is let through.
    storeTimeoutMs: 1000,
    // A store that keeps failing is reported at most this often.
    errorLogIntervalMs: 60_000
};


/**
 * One budget: a number of requests per window for each key (a user, an address), as RateLimit-Policy names it. A
 * store that cannot answer (Redis down, with nothing to fall back on; a primary that does not answer) lets the
 * request through and is logged: the budgets protect the service, they must not be what takes it down.
 */
export class Budget {

    private lastErrorAt = 0;

    /** The budget as the RateLimit-Policy field names it (draft-ietf-httpapi-ratelimit-headers). */
    readonly policy: string;

    constructor(readonly name: string, readonly quota: number, private readonly limiter: RateLimiterAbstract, private readonly log: BudgetLog) {

        this.policy = `"${name}";q=${quota};w=${internals.windowSec}`;
    }

    get windowSec(): number {

        return internals.windowSec;
    }

    /** Counts one request for key. */
    async spend(key: string): Promise<BudgetState> {

        try {
            return this.state(await this.limiter.consume(key));
        }
        catch (err) {
            if (err instanceof RateLimiterRes) {
                return this.state(err);
            }

            return this.unanswered(err);
        }
    }

    /** Where key stands, counting nothing. */
    async peek(key: string): Promise<BudgetState> {

        try {
            const res = await this.limiter.get(key);
            return res ? this.state(res) : { allowed: true, remaining: this.quota, resetSec: internals.windowSec };
        }
        catch (err) {
            return this.unanswered(err);
        }
    }

    private state(res: RateLimiterRes): BudgetState {

        return {
            allowed: res.consumedPoints <= this.quota,
            remaining: Math.max(0, this.quota - res.consumedPoints),
            resetSec: Math.max(1, Math.ceil(res.msBeforeNext / 1000))
        };
    }

    private unanswered(err: unknown): BudgetState {

        const now = Date.now();
        if (now - this.lastErrorAt > internals.errorLogIntervalMs) {
            this.lastErrorAt = now;
            this.log(['warn', 'rate-limit'], { msg: 'the rate limit store did not answer: requests are let through uncounted', budget: this.name, reason: (err as Error)?.message ?? String(err) });
        }

        return { allowed: true, remaining: this.quota, resetSec: internals.windowSec };
    }
}


/**
 * The primary of WEB_CONCURRENCY workers keeps their budgets when no Redis does, so that a user has one budget
 * whichever worker answers: the workers ask it over the cluster's channel.
 */
export function keepWorkersBudgets(config: RateLimitConfig): void {

    if (!config.redisUrl && (config.perMinute || config.authFailuresPerMinute)) {
        new RateLimiterClusterMaster();
    }
}


/**
 * The budgets of this process: in Redis when RATE_LIMIT_REDIS_URL is set (shared by every process and replica,
 * with a budget of this process's own standing in while Redis is unreachable), else with the primary when this is a
 * worker, else in memory.
 */
export function createBudgets(config: RateLimitConfig, log: BudgetLog): Budgets {

    const redis = config.redisUrl ? new Redis(config.redisUrl, {
        // A command waits for no reconnection: while Redis is away the fallback answers at once.
        enableOfflineQueue: false,
        // The commands of the requests in flight go out in one write per turn of the event loop, not one each.
        enableAutoPipelining: true,
        maxRetriesPerRequest: 0,
        connectTimeout: internals.storeTimeoutMs,
        commandTimeout: internals.storeTimeoutMs,
        lazyConnect: false
    }) : null;

    if (redis) {
        let reported = false;
        redis.on('error', (err: Error) => {

            if (!reported) {
                reported = true;
                log(['warn', 'rate-limit'], { msg: 'Redis for the rate limits cannot be reached: each process counts on its own meanwhile', reason: err.message });
            }
        });
        redis.on('ready', () => (reported = false));
    }

    const budget = (name: string, quota: number): Budget | null => {

        if (!quota) {
            return null;
        }

        const options = { keyPrefix: `${internals.keyPrefix}:${name}`, points: quota, duration: internals.windowSec };
        const limiter = redis ?
            new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) }) :
            Cluster.isWorker ?
                new RateLimiterCluster({ ...options, timeoutMs: internals.storeTimeoutMs }) :
                new RateLimiterMemory(options);

        return new Budget(name, quota, limiter, log);
    };

    return {
        user: budget('user', config.perMinute),
        address: budget('address', config.perMinute),
        authFailures: budget('auth-failures', config.authFailuresPerMinute),
        close() {

            redis?.disconnect();
            return Promise.resolve();
        }
    };
}


/** Whether the Redis at url answers within timeoutMs: the store todo-admin doctor checks. Throws when it does not. */
export async function probeBudgetStore(url: string, timeoutMs: number): Promise<void> {

    const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, commandTimeout: timeoutMs, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
        await redis.connect();
        await redis.ping();
    }
    finally {
        redis.disconnect();
    }
}
