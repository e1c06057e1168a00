import { fc, testProp } from '@fast-check/ava';

import { entityTag, ifMatchVersions } from '../../src/common/entity-tags';


// Every instant a task's updated_at can hold, as the API writes it: years 0001 to 9999, microseconds.
const timestamp = fc.tuple(fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }))
    .map(([date, micros]) => date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`));


testProp('a task\'s ETag names exactly its id and updated_at: If-Match reads the version back', [fc.uuid(), timestamp], (t, id, updatedAt) => {

    const tag = entityTag({ id, updated_at: updatedAt });
    t.regex(tag, /^[A-Za-z0-9_-]{32}$/);
    t.deepEqual(ifMatchVersions(`"${tag}"`, id), [updatedAt]);
    t.deepEqual(ifMatchVersions(`"${tag}"`, id.replace(/^./, (c) => (c === '0' ? '1' : '0'))), [], 'another task\'s id matches nothing');
});
