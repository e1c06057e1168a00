// List cursors: a page's position in a sort and order, as the opaque text the API hands out and takes back; the
// trash's and the change feed's cursors.

import Crypto from 'node:crypto';

import type { SortOrder, TaskPosition, TaskSort } from './tasks';
import { charCount, unstorableText } from './text';
import { isTaskId, sortOrders, taskSorts } from './tasks';
import { isApiTimestamp } from './time';


/** A list cursor: a position, and the order it is a position in. */
export interface TaskCursor {
    sort: TaskSort;
    order: SortOrder;
    position: TaskPosition;
}


const internals = {
    // A title holds at most 200 characters; lowering can lengthen a few of them (İ becomes i̇ under ICU).
    maxTitleKeyChars: 600,

    /** The cursors of the first release, `created_at|id`, newest first: kept so that a page in hand still works. */
    decodeFirstCursor(text: string): TaskCursor | null {

        const [createdAt, id, ...rest] = text.split('|');
        if (rest.length || !id || !isApiTimestamp(createdAt) || !isTaskId(id)) {
            return null;
        }

        return { sort: 'created_at', order: 'desc', position: { key: createdAt, id } };
    },

    // A task's place: its list's and parent's UUIDs (zero for none) and its position, joined by '/'.
    placeRx: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[0-9A-Za-z]{1,64}$/,

    /** Whether a decoded cursor's key is one the sort can have produced. */
    validKey(sort: TaskSort, key: unknown): boolean {

        switch (sort) {
            case 'created_at':
            case 'updated_at':
                return isApiTimestamp(key);
            case 'due_date':
                return key === null || isApiTimestamp(key);
            case 'priority':
                return key === 1 || key === 2 || key === 3;
            case 'title':
                return typeof key === 'string' && unstorableText(key) === null && charCount(key) <= internals.maxTitleKeyChars;
            case 'position':
                return typeof key === 'string' && internals.placeRx.test(key);
        }
    }
};


/** Cursors are base64url JSON: [sort, order, key, id]. */
export function encodeCursor(cursor: TaskCursor): string {

    const { sort, order, position } = cursor;
    return Buffer.from(JSON.stringify([sort, order, position.key, position.id])).toString('base64url');
}


/** The cursor the text stands for, or null when it is none this service issued (now or in its first release). */
export function decodeCursor(cursor: string): TaskCursor | null {

    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!text.startsWith('[')) {
        return internals.decodeFirstCursor(text);
    }

    let parts: unknown;
    try {
        parts = JSON.parse(text);
    }
    catch {
        return null;
    }

    if (!Array.isArray(parts) || parts.length !== 4) {
        return null;
    }

    // A well-formed cursor can still name a day that does not exist, or year 0: the database would refuse it.
    const [sort, order, key, id] = parts;
    if (!taskSorts.includes(sort) || !sortOrders.includes(order) || typeof id !== 'string' || !isTaskId(id) || !internals.validKey(sort, key)) {
        return null;
    }

    return { sort, order, position: { key, id } };
}


// The trash's and the change feed's cursors.


/** A feed cursor's form: the version (8 bytes) and a check of it with its user (8 bytes), in base64url. */
export const feedCursorRx = /^[A-Za-z0-9_-]{22}$/;


const syncCursors = {
    trashPrefix: 'trash:',
    versionRx: /^(0|[1-9]\d{0,15})$/,

    check(userId: string, version: bigint): Buffer {

        return Crypto.createHash('sha256').update(`${userId}\n${version}`).digest().subarray(0, 8);
    }
};


/** A trash page's cursor: where the next page starts (the version of the last task of this one). */
export function encodeTrashCursor(version: number): string {

    return Buffer.from(`${syncCursors.trashPrefix}${version}`).toString('base64url');
}


export function decodeTrashCursor(cursor: string): number | null {

    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!text.startsWith(syncCursors.trashPrefix) || Buffer.from(text).toString('base64url') !== cursor) {
        return null;
    }

    const version = text.slice(syncCursors.trashPrefix.length);
    return syncCursors.versionRx.test(version) ? Number(version) : null;
}


/**
 * A feed cursor: the version the client has synced to, with a check that binds it to its user, so that a cursor
 * sent by another user is refused instead of read as a position in this user's changes.
 */
export function encodeFeedCursor(userId: string, version: number): string {

    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64BE(BigInt(version));
    syncCursors.check(userId, BigInt(version)).copy(bytes, 8);
    return bytes.toString('base64url');
}


/** The version a feed cursor names, when it is this user's; null when it is not a cursor of this user's. */
export function decodeFeedCursor(userId: string, cursor: string): number | null {

    if (!feedCursorRx.test(cursor)) {
        return null;
    }

    const bytes = Buffer.from(cursor, 'base64url');
    const version = bytes.readBigUInt64BE(0);
    if (version > BigInt(Number.MAX_SAFE_INTEGER) || !syncCursors.check(userId, version).equals(bytes.subarray(8, 16))) {
        return null;
    }

    return Number(version);
}
