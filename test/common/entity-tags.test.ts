import { fc, testProp } from '@fast-check/ava';

import { entityTag, ifMatchVersions } from '../../src/common/entity-tags';


// Every instant a task's updated_at can hold, as the API writes it: years 0001 to 9999, microseconds.
const timestamp = fc.tuple(fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }))
    .map(([date, micros]) => date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`));

// The instants a clock gives (the tag reads them off the digits; the rest of the years go another way), leap days,
// month ends and the turn of 1970 among them.
const clockTimestamp = fc.oneof(
    fc.tuple(fc.date({ min: new Date('1900-01-01T00:00:00.000Z'), max: new Date('2200-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 })),
    fc.tuple(fc.constantFrom('1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '2000-02-29T12:00:00.000Z', '2024-02-29T23:59:59.999Z', '2100-03-01T00:00:00.000Z', '2026-12-31T23:59:59.999Z')
        .map((text) => new Date(text)), fc.integer({ min: 0, max: 999 }))
).map(([date, micros]) => date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`));


testProp('a task\'s ETag names exactly its id and updated_at: If-Match reads the version back', [fc.uuid(), fc.oneof(timestamp, clockTimestamp)], (t, id, updatedAt) => {

    const tag = entityTag({ id, updated_at: updatedAt });
    t.regex(tag, /^[A-Za-z0-9_-]{32}$/);
    t.deepEqual(ifMatchVersions(`"${tag}"`, id), [updatedAt]);
    t.deepEqual(ifMatchVersions(`"${tag}"`, id.replace(/^./, (c) => (c === '0' ? '1' : '0'))), [], 'another task\'s id matches nothing');
});


testProp('a task\'s ETag is the same text for the same version as ever: its id\'s 16 bytes and updated_at\'s microseconds (64-bit), base64url', [fc.uuid(), fc.oneof(timestamp, clockTimestamp)], (t, id, updatedAt) => {

    // The encoding written plainly: the tags clients hold stay valid across releases.
    const [, millis, micros] = /^(.{23})(\d{3})Z$/.exec(updatedAt)!;
    const bytes = Buffer.alloc(24);
    Buffer.from(id.replace(/-/g, ''), 'hex').copy(bytes);
    bytes.writeBigInt64BE(BigInt(Date.parse(`${millis}Z`)) * 1000n + BigInt(micros), 16);

    t.is(entityTag({ id, updated_at: updatedAt }), bytes.toString('base64url'));
    t.is(entityTag({ id: id.toUpperCase(), updated_at: updatedAt }), bytes.toString('base64url'), 'an id in capitals names the same bytes');
});
