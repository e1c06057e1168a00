import type { AuthArtifacts, AuthCredentials } from '@hapi/hapi';


export interface VerifiedToken {
    credentials: AuthCredentials;
    artifacts: AuthArtifacts;
    /** The second from which the token is no longer accepted (its exp, plus the clock skew tolerated). */
    untilSec: number;
    /** The kid of the key-set key that verified the token; absent for the shared secret. */
    kid?: string;
}


/**
 * Tokens whose signature and claims were verified, remembered until they expire, so that the signature check runs once
 * per token rather than once per request. Keyed by the whole token string (signature included): an entry can only ever
 * answer for the token it was verified from. Bounded: past `max` entries the oldest goes.
 */
export class VerifiedTokens {

    private readonly entries = new Map<string, VerifiedToken>();

    constructor(private readonly max: number, private readonly nowSec = () => Math.floor(Date.now() / 1000)) {}

    get size(): number {

        return this.entries.size;
    }

    /** The token's verification, while it lasts. */
    get(token: string): VerifiedToken | null {

        const entry = this.entries.get(token);
        if (!entry) {
            return null;
        }

        if (this.nowSec() >= entry.untilSec) {
            this.entries.delete(token);
            return null;
        }

        return entry;
    }

    /**
     * Forgets the tokens verified with these key-set keys. Runs when a refresh of the key set withdraws keys (rare),
     * so that the lookup of a remembered token stays one Map lookup.
     */
    forgetKeys(kids: ReadonlySet<string>): void {

        for (const [token, entry] of this.entries) {
            if (entry.kid !== undefined && kids.has(entry.kid)) {
                this.entries.delete(token);
            }
        }
    }

    set(token: string, entry: VerifiedToken): void {

        if (entry.untilSec <= this.nowSec()) {
            return;
        }

        if (this.entries.size >= this.max && !this.entries.has(token)) {
            this.entries.delete(this.entries.keys().next().value!);
        }

        this.entries.set(token, entry);
    }
}
