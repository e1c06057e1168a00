import test from 'ava';

import { isApiTimestamp, utcInstant } from '../../src/common/time';


test('utcInstant reads RFC 3339 date-times, and offset-less ones and bare dates as UTC', (t) => {

    t.is(utcInstant('2026-12-31T17:00:00Z'), '2026-12-31T17:00:00.000Z');
    t.is(utcInstant('2026-12-31t17:00:00z'), '2026-12-31T17:00:00.000Z');
    t.is(utcInstant('2026-12-31T17:00:00+02:00'), '2026-12-31T15:00:00.000Z');
    t.is(utcInstant('2026-12-31T17:00:00.123456789-01:30'), '2026-12-31T18:30:00.123Z');
    t.is(utcInstant('2026-12-31 17:00'), '2026-12-31T17:00:00.000Z');
    t.is(utcInstant('2026-12-31'), '2026-12-31T00:00:00.000Z');
    t.is(utcInstant('2024-02-29'), '2024-02-29T00:00:00.000Z');
    t.is(utcInstant('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00.000Z');
    t.is(utcInstant('9999-12-31T23:59:59.999Z'), '9999-12-31T23:59:59.999Z');
});

test('utcInstant refuses days that do not exist, hours past 23, other forms, and years outside 0001 to 9999 in UTC', (t) => {

    for (const value of [
        '2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '2026-12-31T24:00:00Z', '2026-12-31T17:60:00Z',
        '2026-12-31T17:00:00+2:00', '2026-12-31T17', '31/12/2026', '20261231', 'tomorrow', '', ' 2026-12-31',
        '0000-06-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:00:00-01:00', '10000-01-01'
    ]) {
        t.is(utcInstant(value), null, value);
    }
});

test('isApiTimestamp holds for the API\'s own form of an instant that exists, and nothing else', (t) => {

    t.true(isApiTimestamp('2026-12-01T17:30:00.500000Z'));
    t.true(isApiTimestamp('0001-01-01T00:00:00.000000Z'));
    for (const value of ['2026-12-01T17:30:00.500Z', '2026-12-01T17:30:00Z', '2026-02-30T00:00:00.000000Z', '0000-01-01T00:00:00.000000Z', '2026-12-01 17:30:00.500000', null, 5]) {
        t.false(isApiTimestamp(value), String(value));
    }
});
