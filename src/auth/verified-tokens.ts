import type { AuthArtifacts, AuthCredentials } from '@hapi/hapi';


export interface VerifiedToken {
    credentials: AuthCredentials;
    artifacts: AuthArtifacts;
    /** The second from which the token is no longer accepted (its exp, plus the clock skew tolerated). */
    untilSec: number;
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
