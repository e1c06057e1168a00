import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing';


// Positions: keys of fractional indexing (base-62 digits), which sort byte-wise as the columns' collate "C" does. A
// key between two neighbours is found without touching any other sibling; keys grow when many land in the same gap,
// and a key longer than maxPositionLength makes the siblings be spread again (rebalanced).


/** The longest position stored (the columns' check says the same). */
export const maxPositionLength = 64;


/** A key strictly between two siblings' positions (null: no sibling on that side), or null when it would be too long. */
export function positionBetween(before: string | null, after: string | null): string | null {

    const key = generateKeyBetween(before, after);
    return key.length <= maxPositionLength ? key : null;
}


/** Short keys for n siblings in order, evenly spread: what a rebalance gives them. */
export function spreadPositions(n: number): string[] {

    return generateNKeysBetween(null, null, n);
}
