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
