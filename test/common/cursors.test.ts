import { fc, testProp } from '@fast-check/ava';
import test from 'ava';

import type { TaskPosition } from '../../src/common/tasks';
import { decodeCursor, encodeCursor } from '../../src/common/cursors';
import { sortOrders, taskSorts } from '../../src/common/tasks';


const internals = {
    // An updated_at or created_at as the API writes it: years 0001 to 9999, microseconds.
    timestamp: fc.tuple(fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }))
        .map(([date, micros]) => date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`)),

    id: '7d0c3f1e-5a55-4d6b-9c3e-0f1f0f0f0f0f',

    encode(value: unknown): string {

        return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
    }
};


// Each sort with the keys its tasks can have (a title is at most 200 characters, none of them NUL).
const cursor = fc.oneof(
    fc.record({ sort: fc.constantFrom('created_at' as const, 'updated_at' as const), key: internals.timestamp }),
    fc.record({ sort: fc.constant('due_date' as const), key: fc.option(internals.timestamp) }),
    fc.record({ sort: fc.constant('priority' as const), key: fc.constantFrom(1, 2, 3) }),
    fc.record({ sort: fc.constant('title' as const), key: fc.string({ unit: 'binary', maxLength: 200 }).map((title) => title.replace(/\u0000/g, '').toLowerCase()) })
).chain(({ sort, key }) => {

    return fc.record({
        sort: fc.constant(sort),
        order: fc.constantFrom(...sortOrders),
        position: fc.record<TaskPosition>({ key: fc.constant(key), id: fc.uuid() })
    });
});


testProp('a cursor the service issues decodes back to the same sort, order and position', [cursor], (t, issued) => {

    const text = encodeCursor(issued);
    t.regex(text, /^[A-Za-z0-9_-]+$/, 'fits in a query string as it is');
    t.deepEqual(decodeCursor(text), issued);
});

test('a cursor of the first release, created_at|id, is a position in the default order', (t) => {

    const createdAt = '2026-03-01T12:00:00.123456Z';
    t.deepEqual(decodeCursor(internals.encode(`${createdAt}|${internals.id}`)), { sort: 'created_at', order: 'desc', position: { key: createdAt, id: internals.id } });
});

test('text that is no cursor the service issued decodes to nothing', (t) => {

    const { encode, id } = internals;
    for (const forged of [
        encode(['title', 'asc', 5, id]), encode(['priority', 'desc', 4, id]), encode(['priority', 'desc', '2', id]),
        encode(['due_date', 'asc', '2026-02-30T00:00:00.000000Z', id]), encode(['created_at', 'desc', null, id]),
        encode(['created_at', 'desc', '2026-01-01T00:00:00Z', id]), encode(['title', 'asc', 'x'.repeat(601), id]),
        encode(['title', 'asc', 'x', 'not-a-uuid']), encode(['title', 'asc', 'x\u0000', id]), encode(['title', 'asc', '\ud800', id]),
        encode(['colour', 'asc', 'x', id]), encode(['title', 'up', 'x', id]), encode(['title', 'asc', 'x', id, 'extra']),
        encode('{"sort":"title"}'), encode('[not json'), encode(`2026-01-01T00:00:00.000000Z|${id}|more`),
        encode(`0000-01-01T00:00:00.000000Z|${id}`), encode(`2026-01-01T00:00:00.000000Z|${id.slice(1)}`), 'not base64 at all!', ''
    ]) {
        t.is(decodeCursor(forged), null, Buffer.from(forged, 'base64url').toString());
    }

    t.true(taskSorts.every((sort) => decodeCursor(encode([sort, 'asc', {}, id])) === null));
});
