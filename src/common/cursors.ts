// List cursors: a page's position in a sort and order, as the opaque text the API hands out and takes back.

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
