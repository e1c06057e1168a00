// Time in the API's form.


/**
 * A timestamp from utcTimestampColumn in the API's form: "2026-12-01T17:30:00.500000Z". One already in that form
 * (an answer stored as JSON, say) is returned as it is; null stays null. PostgreSQL's ISO output of the
 * years the API takes is "YYYY-MM-DD HH:MM:SS", and a fraction without trailing zeros when there is one.
 */
export function apiTimestamp(value: string | null): string | null {

    if (value === null || value.endsWith('Z')) {
        return value;
    }

    if (value.length < 19 || value.length > 26 || value[4] !== '-' || value[10] !== ' ' || value[13] !== ':' || (value.length > 19 && value[19] !== '.')) {
        // Only a database whose DateStyle is not ISO writes otherwise (PostgreSQL's default is ISO).
        throw new Error(`the database wrote a timestamp as "${value}": its DateStyle must be ISO`);
    }

    return `${value.slice(0, 10)}T${value.slice(11, 19)}.${value.slice(20).padEnd(6, '0')}Z`;
}


const internals = {
    // The years PostgreSQL's timestamptz and the API's four-digit years share (PostgreSQL has no year 0).
    minYear: 1,
    maxYear: 9999,

    // RFC 3339 date-time; an offset-less date-time or a bare date is read as UTC, as the frontend's form inputs send them.
    dateTimeRx: /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?)?$/,
    apiTimestampRx: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/
};


/**
 * An instant as a client writes it (an RFC 3339 date-time, or a date-time without offset or a bare date, read as
 * UTC) in UTC as toISOString writes it, or null when it is none, or falls outside the years 0001 to 9999 once in UTC.
 */
export function utcInstant(value: string): string | null {

    const match = internals.dateTimeRx.exec(value);
    if (!match) {
        return null;
    }

    const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset = 'Z'] = match;
    const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset.toUpperCase()}`);
    if (Number.isNaN(date.getTime())) {
        return null;
    }

    // Date rolls 02-30 over into March; a calendar date that does not exist is an error, not another day.
    const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
    if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || Number(hour) > 23) {
        return null;
    }

    // An offset can carry 0001-01-01 into year 0, or 9999-12-31 into year 10000, once in UTC.
    const utcYear = date.getUTCFullYear();
    if (utcYear < internals.minYear || utcYear > internals.maxYear) {
        return null;
    }

    return date.toISOString();
}


/** Whether the value is a timestamp in the API's form, of an instant that exists, in the years 0001 to 9999. */
export function isApiTimestamp(value: unknown): value is string {

    return typeof value === 'string' && internals.apiTimestampRx.test(value) && utcInstant(value) !== null;
}
