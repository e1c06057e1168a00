import type { Task, Versions } from './tasks';


/**
 * A task's entity tag: its id and its updated_at (in microseconds since 1970), 24 bytes in base64url. A tag decodes
 * back to the version it names, so If-Match becomes a condition on the stored task rather than a second read.
 */
const internals = {
    tagRx: /^[A-Za-z0-9_-]{32}$/,
    timestampRx: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3})(\d{3})Z$/,

    // The instants a stored timestamp can hold by the API's rules (years 0001 to 9999).
    minMicros: BigInt(Date.parse('0001-01-01T00:00:00.000Z')) * 1000n,
    maxMicros: BigInt(Date.parse('9999-12-31T23:59:59.999Z')) * 1000n + 999n,

    micros(timestamp: string): bigint {

        const [, millis, micros] = internals.timestampRx.exec(timestamp)!;
        return BigInt(Date.parse(`${millis}Z`)) * 1000n + BigInt(micros);
    },

    timestamp(micros: bigint): string {

        const millis = micros >= 0n ? micros / 1000n : (micros - 999n) / 1000n;
        const rest = String(micros - millis * 1000n).padStart(3, '0');
        return new Date(Number(millis)).toISOString().replace('Z', `${rest}Z`);
    },

    /** The version a tag of this task names, or null when it is not such a tag. */
    version(tag: string, id: string): string | null {

        if (!internals.tagRx.test(tag)) {
            return null;
        }

        const bytes = Buffer.from(tag, 'base64url');
        if (bytes.subarray(0, 16).toString('hex') !== id.replace(/-/g, '').toLowerCase()) {
            return null;
        }

        const micros = bytes.readBigInt64BE(16);
        if (micros < internals.minMicros || micros > internals.maxMicros) {
            return null;
        }

        return internals.timestamp(micros);
    },

    /** A UUID's 16 bytes into the first 16 of `bytes`: its 32 hex digits, the hyphens skipped. */
    writeUuid(id: string, bytes: Uint8Array): void {

        let at = 0;
        for (let i = 0; i < id.length && at < 16; ++i) {
            const high = internals.hexDigit(id.charCodeAt(i));
            if (high < 0) {
                continue;
            }

            bytes[at++] = (high << 4) | internals.hexDigit(id.charCodeAt(++i));
        }
    },

    /** The value of a hex digit's character code (either case), -1 for any other character. */
    hexDigit(code: number): number {

        if (code >= 48 && code <= 57) {
            return code - 48;
        }

        const lower = code | 32;
        return lower >= 97 && lower <= 102 ? lower - 87 : -1;
    },

    // The tag being written (entityTag is synchronous, so one will do), and base64url's alphabet as the 4 096 pairs
    // of characters that 12 bits make. Buffer's own encoding costs a call into C++ per tag, which a tag on every
    // answer pays for more than these 8 KB do.
    tagBytes: new Uint8Array(24),
    base64Pairs: [] as string[],

    writeUint32(value: number, bytes: Uint8Array, at: number): void {

        bytes[at] = value >>> 24;
        bytes[at + 1] = (value >>> 16) & 0xff;
        bytes[at + 2] = (value >>> 8) & 0xff;
        bytes[at + 3] = value & 0xff;
    },

    /** The digits of `text` from `start` to `end` as a number (the timestamp's fields, which are all digits). */
    digits(text: string, start: number, end: number): number {

        let value = 0;
        for (let i = start; i < end; ++i) {
            value = value * 10 + text.charCodeAt(i) - 48;
        }

        return value;
    },

    /**
     * Microseconds since 1970 of a timestamp in the API's form ("2026-12-01T17:30:00.500000Z"), read off its digits:
     * the days from the civil date as in Howard Hinnant's days_from_civil, which holds for every year the API takes.
     * A text of another length, or without the T and the point where they belong, is read by Date.parse.
     */
    epochMicros(timestamp: string): number {

        if (timestamp.length !== 27 || timestamp.charCodeAt(10) !== 84 || timestamp.charCodeAt(19) !== 46) {
            return Date.parse(`${timestamp.slice(0, 23)}Z`) * 1000 + Number(timestamp.slice(23, 26));
        }

        const month = internals.digits(timestamp, 5, 7);
        const year = internals.digits(timestamp, 0, 4) - (month <= 2 ? 1 : 0);
        const era = Math.floor(year / 400);
        const yearOfEra = year - era * 400;
        const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + internals.digits(timestamp, 8, 10) - 1;
        const days = era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
        const seconds = days * 86_400 + internals.digits(timestamp, 11, 13) * 3600 + internals.digits(timestamp, 14, 16) * 60 + internals.digits(timestamp, 17, 19);
        return seconds * 1_000_000 + internals.digits(timestamp, 20, 26);
    },

    /** The members of an If-Match or If-None-Match list, trimmed. */
    members(header: string): string[] {

        return header.split(',').map((member) => member.trim());
    }
};


const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
for (let i = 0; i < 4096; ++i) {
    internals.base64Pairs.push(base64url[i >>> 6] + base64url[i & 63]);
}


/** The opaque part of the task's ETag (hapi adds the quotes). */
export function entityTag(task: Pick<Task, 'id' | 'updated_at'>): string {

    const bytes = internals.tagBytes;
    internals.writeUuid(task.id, bytes);

    // Microseconds as two 32-bit halves, without BigInt on every answer, while they are exact as a number (every
    // updated_at the clock gives, until the year 2255); BigInt beyond.
    const updated = task.updated_at;
    const micros = internals.epochMicros(updated);
    if (Number.isSafeInteger(micros)) {
        const high = Math.floor(micros / 0x1_0000_0000);
        internals.writeUint32(high >>> 0, bytes, 16);
        internals.writeUint32(micros - high * 0x1_0000_0000, bytes, 20);
    }
    else {
        const big = BigInt.asUintN(64, internals.micros(updated));
        internals.writeUint32(Number(big >> 32n), bytes, 16);
        internals.writeUint32(Number(big & 0xffff_ffffn), bytes, 20);
    }

    // base64url, three bytes to four characters, two characters at a time.
    let tag = '';
    for (let i = 0; i < 24; i += 3) {
        const group = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        tag += internals.base64Pairs[group >>> 12] + internals.base64Pairs[group & 0xfff];
    }

    return tag;
}


/**
 * What If-Match asks of task `id`: undefined when nothing (no header, or `*`: the task only has to exist), else
 * the versions named. Weak tags, other tasks' tags and text that is no tag of ours name none, so a header of
 * nothing but those can never match: a condition the service cannot confirm fails rather than being dropped.
 */
export function ifMatchVersions(header: string | undefined, id: string): Versions | undefined {

    if (header === undefined) {
        return undefined;
    }

    const members = internals.members(header);
    if (members.includes('*')) {
        return undefined;
    }

    const versions: string[] = [];
    for (const member of members) {
        const quoted = /^"([^"]*)"$/.exec(member);
        const version = quoted ? internals.version(quoted[1], id) : null;
        if (version) {
            versions.push(version);
        }
    }

    return versions;
}


/** Whether If-None-Match names this tag (weak comparison: a W/ prefix does not matter) or is `*`. */
export function ifNoneMatchHolds(header: string | undefined, tag: string): boolean {

    if (header === undefined) {
        return false;
    }

    return internals.members(header).some((member) => member === '*' || member.replace(/^W\//, '') === `"${tag}"`);
}
