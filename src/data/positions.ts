import Crypto from 'node:crypto';

import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';


// Positions: keys of fractional indexing (base-62 digits), which sort byte-wise as the columns' collate "C" does. A
// key between two neighbours is found without touching any other sibling; keys grow when many land in the same gap,
// and a key longer than maxPositionLength makes the siblings be spread again (rebalanced).


const internals = {
    // fractional-indexing's digits, in the order they sort.
    digits: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
};


/** The longest position stored (the columns' check says the same). */
export const maxPositionLength = 64;


/** A key strictly between two siblings' positions (null: no sibling on that side), or null when it would be too long. */
export function positionBetween(before: string | null, after: string | null): string | null {

    const key = generateKeyBetween(before, after);
    return key.length <= maxPositionLength ? key : null;
}


/**
 * A key before the first sibling's position (null: none), with three random digits after it: creates that race for
 * the first place take different keys, so they all succeed at once, in some order, rather than one at a time.
 */
export function positionFirst(first: string | null): string | null {

    const key = generateKeyBetween(null, first);
    // Random digits make a longer key between this one and the first; a last digit of 0 would be no key.
    const digits = internals.digits;
    const bytes = Crypto.randomBytes(3);
    const suffix = `${digits[bytes[0] % 62]}${digits[bytes[1] % 62]}${digits[1 + (bytes[2] % 61)]}`;
    const jittered = `${key}${suffix}`;
    const fits = (candidate: string) => candidate.length <= maxPositionLength && (first === null || candidate < first);
    return fits(jittered) ? jittered : fits(key) ? key : null;
}


/** Short keys for n siblings in order, evenly spread: what a rebalance gives them. */
export function spreadPositions(n: number): string[] {

    return generateNKeysBetween(null, null, n);
}
