import test from 'ava';

import { apiTimestamp } from '../../src/common/time';
import { timestampColumn, utcTimestampColumn } from '../../src/data/time';
import { createTestDatabase } from '../helpers/database';


test('PostgreSQL\'s own text of a UTC timestamp, put in the API\'s form, is what to_char writes, for every instant the API takes', async (t) => {

    const database = await createTestDatabase({ migrate: false });
    t.teardown(() => database.destroy());

    // Whole seconds, every fraction length, the first and last years, leap days, the epoch and just before it.
    const instants = [
        '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000001Z', '1969-12-31T23:59:59.999999Z', '1970-01-01T00:00:00Z',
        '2024-02-29T12:00:00.5Z', '2026-12-01T17:30:00.12Z', '2026-12-01T17:30:00.123Z', '2026-12-01T17:30:00.1234Z',
        '2026-12-01T17:30:00.12345Z', '2026-12-01T17:30:00.123456Z', '9999-12-31T23:59:59.999999Z'
    ];

    const { rows } = await database.db.knex.raw(`
        select ${timestampColumn('instant')}, ${utcTimestampColumn('instant').replace(/ as instant$/, ' as plain')}
        from unnest(?::timestamptz[]) as instant`, [instants]);

    t.is(rows.length, instants.length);
    for (const row of rows) {
        t.is(apiTimestamp(row.plain), row.instant, row.plain);
    }
});

test('apiTimestamp: null stays null, the API\'s form stays as it is, and a non-ISO DateStyle is refused loudly', (t) => {

    t.is(apiTimestamp(null), null);
    t.is(apiTimestamp('2026-12-01T17:30:00.500000Z'), '2026-12-01T17:30:00.500000Z');
    t.is(apiTimestamp('2026-12-01 17:30:00'), '2026-12-01T17:30:00.000000Z');
    t.throws(() => apiTimestamp('12/01/2026 17:30:00.5'), { message: /DateStyle must be ISO/ });
});
