import Crypto from 'node:crypto';

import type { HapiJwt } from '@hapi/jwt';

import type { JwksConfig } from '../config';
import type { components } from '../generated/openapi';


/** The key set's state as /health reports it (`disabled` is the absence of a key set). */
export type JwksState = Exclude<components['schemas']['JwksState'], 'disabled'>;


export interface VerificationKey {
    key: Crypto.KeyObject;
    /** The algorithms this key may verify: its own `alg` when the key names one. */
    algorithms: HapiJwt.SupportedAlgorithm[];
}


export interface JwksLog {
    (tags: string[], data: object): void;
}


/** A key set answer that is refused as it stands; details go into the log line beside the reason. */
export class JwksFetchError extends Error {

    constructor(message: string, readonly details: Record<string, unknown> = {}) {

        super(message);
        this.name = 'JwksFetchError';
    }
}


/** The shortest RSA modulus trusted: a 512-bit one is factored in hours, a 1024-bit one is within reach of a state. */
export const minRsaModulusBits = 2048;


/**
 * The largest key set read. Better Auth's holds a few keys of a few hundred bytes each (an RSA 4096 key is under
 * 1 KiB), so this leaves room for hundreds while a huge or endless body cannot fill the memory.
 */
export const maxJwksBytes = 256 * 1024;


const internals = {
    curves: { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, HapiJwt.SupportedAlgorithm>,

    tooLarge: () => new JwksFetchError(`more than ${maxJwksBytes / 1024} KiB, not read further`, { maxBytes: maxJwksBytes }),

    /** The kids of `before` that `after` no longer has, or has for another key. */
    withdrawn(before: Map<string, VerificationKey> | null, after: Map<string, VerificationKey>): Set<string> {

        const kids = new Set<string>();
        for (const [kid, { key }] of before ?? []) {
            if (!after.get(kid)?.key.equals(key)) {
                kids.add(kid);
            }
        }

        return kids;
    },

    /** The body, read no further than the bound whatever Content-Length says (it may lie, or be absent). */
    async readBounded(response: Response): Promise<Buffer> {

        const declared = Number(response.headers.get('content-length'));
        if (declared > maxJwksBytes) {
            await response.body?.cancel();
            throw internals.tooLarge();
        }

        const chunks: Uint8Array[] = [];
        let size = 0;
        const reader = response.body?.getReader();
        while (reader) {
            const { done, value } = await reader.read();
            if (done) {
                break;
            }

            size += value.byteLength;
            if (size > maxJwksBytes) {
                await reader.cancel();
                throw internals.tooLarge();
            }

            chunks.push(value);
        }

        return Buffer.concat(chunks, size);
    }
};


/**
 * The algorithms a JWK may sign or verify with: its own alg (which must suit the key), else every algorithm its
 * type allows, RS256 first for RSA. Null for keys that are not asymmetric signature keys.
 */
export function jwkAlgorithms(jwk: Crypto.JsonWebKey & { alg?: string }): HapiJwt.SupportedAlgorithm[] | null {

    let allowed: HapiJwt.SupportedAlgorithm[];
    if (jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448')) {
        allowed = ['EdDSA'];
    }
    else if (jwk.kty === 'RSA') {
        allowed = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    }
    else if (jwk.kty === 'EC' && internals.curves[jwk.crv ?? '']) {
        allowed = [internals.curves[jwk.crv!]];
    }
    else {
        return null;
    }

    if (jwk.alg === undefined) {
        return allowed;
    }

    return allowed.includes(jwk.alg as HapiJwt.SupportedAlgorithm) ? [jwk.alg as HapiJwt.SupportedAlgorithm] : null;
}


/** The modulus length of an RSA key shorter than minRsaModulusBits; null for any other key. */
export function shortRsaModulus(key: Crypto.KeyObject): number | null {

    if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') {
        return null;
    }

    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    return bits < minRsaModulusBits ? bits : null;
}


export interface ImportedJwks {
    keys: Map<string, VerificationKey>;
    /** Entries not imported, the short RSA keys among them. */
    skipped: number;
    /** The RSA keys skipped for a modulus under minRsaModulusBits, named in the log. */
    shortRsa: { kid: string; bits: number }[];
}


/**
 * Imports the usable signature keys of a JWKS document; entries that are not (no kid, unknown type, an RSA key under
 * 2048 bits, junk) are skipped.
 */
export function importJwks(document: unknown): ImportedJwks {

    const entries = (document as { keys?: unknown })?.keys;
    if (!Array.isArray(entries)) {
        throw new Error('the document has no "keys" array');
    }

    const keys = new Map<string, VerificationKey>();
    const shortRsa: ImportedJwks['shortRsa'] = [];
    let skipped = 0;
    for (const entry of entries) {
        const jwk = entry as Crypto.JsonWebKey & { kid?: unknown; use?: unknown; alg?: string };
        const algorithms = jwk && typeof jwk === 'object' && typeof jwk.kid === 'string' && jwk.kid && (jwk.use === undefined || jwk.use === 'sig') ?
            jwkAlgorithms(jwk) :
            null;

        if (!algorithms) {
            ++skipped;
            continue;
        }

        try {
            // A public key only, even if the document were to carry private parts.
            const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
            const key = Crypto.createPublicKey({ key: publicJwk, format: 'jwk' });
            const bits = shortRsaModulus(key);
            if (bits !== null) {
                shortRsa.push({ kid: jwk.kid as string, bits });
                ++skipped;
                continue;
            }

            keys.set(jwk.kid as string, { key, algorithms });
        }
        catch {
            ++skipped;
        }
    }

    return { keys, skipped, shortRsa };
}


/**
 * Fetches and imports a key set from its own address only: a redirect is refused rather than followed, since the
 * address it names (an internal one, say) was never configured; the body is read up to maxJwksBytes. Throws a
 * JwksFetchError for an answer refused as it stands, and whatever fetch throws (a timeout, a refused connection)
 * otherwise. The server's key set and todo-admin doctor both fetch with this, so both refuse the same answers.
 */
export async function fetchJwks(url: string, timeoutMs: number): Promise<ImportedJwks> {

    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        const location = response.headers.get('location');
        throw new JwksFetchError(`HTTP ${response.status}, a redirect to ${location ?? '(no Location)'}, not followed`, { status: response.status, location });
    }

    if (!response.ok) {
        await response.body?.cancel();
        throw new JwksFetchError(`HTTP ${response.status}`, { status: response.status });
    }

    const body = await internals.readBounded(response);
    let document: unknown;
    try {
        document = JSON.parse(body.toString('utf8'));
    }
    catch {
        throw new JwksFetchError('something other than JSON');
    }

    return importJwks(document);
}


/**
 * Why a fetch of the key set failed, in a few words: the refusal of a JwksFetchError, the timeout it waited, or what
 * fetch said. The server's log line and todo-admin doctor give the same reason.
 */
export function jwksFailureReason(err: unknown, timeoutMs: number): string {

    return (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
}


/**
 * Better Auth's public keys, fetched from its JWKS endpoint and kept in memory. An unknown kid fetches the set
 * again, at most once per refetch interval however many requests ask; a failed fetch keeps the keys already
 * known, until their last successful fetch is older than JWKS_MAX_STALE_S. Nothing here throws into a request: a
 * key that cannot be had is simply not found.
 */
export class JwksKeySet {

    private keys: Map<string, VerificationKey> | null = null;
    private fetchedAt = 0;                  // last successful fetch (ms)
    private attemptedAt = 0;                // last attempt, successful or not (ms)
    private lastAttemptFailed = false;
    private inFlight: Promise<void> | null = null;
    private readonly withdrawnListeners: ((kids: ReadonlySet<string>) => void)[] = [];

    constructor(private readonly config: JwksConfig, private readonly log: JwksLog, private readonly now = Date.now) {}

    /**
     * Calls the listener with the kids a successful fetch withdrew (gone from the set, or now naming another key),
     * so that what was verified with them can be forgotten.
     */
    onKeysWithdrawn(listener: (kids: ReadonlySet<string>) => void): void {

        this.withdrawnListeners.push(listener);
    }

    state(): JwksState {

        if (!this.keys) {
            return 'unreachable';
        }

        const age = this.now() - this.fetchedAt;
        if (age > this.config.maxStaleSec * 1000) {
            return 'expired';
        }

        return this.lastAttemptFailed || age > 2 * this.config.maxAgeSec * 1000 ? 'stale' : 'ok';
    }

    /**
     * The second from which no key of the set verifies unless a fetch succeeds first: the last successful fetch plus
     * JWKS_MAX_STALE_S. What was verified with the set is not to be taken as verified past it either.
     */
    trustedUntilSec(): number {

        return Math.floor(this.fetchedAt / 1000) + this.config.maxStaleSec;
    }

    /**
     * The key with this kid, fetching the set again when it is unknown (rate-limited). Keys whose last successful
     * fetch is older than JWKS_MAX_STALE_S are not served: the auth server may have withdrawn them long since.
     */
    async find(kid: string): Promise<VerificationKey | null> {

        const known = this.current()?.get(kid);
        if (known) {
            if (this.now() - this.fetchedAt > this.config.maxAgeSec * 1000) {
                void this.refresh();        // Serve the known key now; pick up revocations in the background.
            }

            return known;
        }

        await this.refresh();
        return this.current()?.get(kid) ?? null;
    }

    /** The keys, unless they are older than JWKS_MAX_STALE_S. */
    private current(): Map<string, VerificationKey> | null {

        return this.now() - this.fetchedAt > this.config.maxStaleSec * 1000 ? null : this.keys;
    }

    /** Fetches the key set unless a fetch is under way (then waits for it) or one was tried too recently. */
    refresh(): Promise<void> {

        if (this.inFlight) {
            return this.inFlight;
        }

        if (this.attemptedAt && this.now() - this.attemptedAt < this.config.refetchIntervalSec * 1000) {
            return Promise.resolve();
        }

        this.attemptedAt = this.now();
        this.inFlight = this.fetch().finally(() => {

            this.inFlight = null;
        });

        return this.inFlight;
    }

    private async fetch(): Promise<void> {

        try {
            const { keys, skipped, shortRsa } = await fetchJwks(this.config.url, this.config.timeoutMs);
            if (skipped) {
                this.log(['warn', 'jwks'], {
                    msg: 'skipped unusable entries of the key set',
                    url: this.config.url,
                    skipped,
                    ...(shortRsa.length ? { shortRsaKeys: shortRsa.map(({ kid, bits }) => `${kid} (${bits} bits)`) } : {})
                });
            }

            const withdrawn = internals.withdrawn(this.keys, keys);
            this.keys = keys;
            this.fetchedAt = this.now();
            this.lastAttemptFailed = false;

            if (withdrawn.size) {
                this.log(['info', 'jwks'], { msg: 'keys withdrawn from the key set verify no token from now on', url: this.config.url, kids: [...withdrawn] });
                for (const listener of this.withdrawnListeners) {
                    listener(withdrawn);
                }
            }
        }
        catch (err) {
            this.lastAttemptFailed = true;
            this.log(['error', 'jwks'], {
                msg: this.keys && !this.current() ?
                    'could not fetch the key set; the known keys are older than JWKS_MAX_STALE_S and verify no token' :
                    'could not fetch the key set; known keys stay in use',
                url: this.config.url,
                reason: jwksFailureReason(err, this.config.timeoutMs),
                ...(err instanceof JwksFetchError ? err.details : {})
            });
        }
    }
}
