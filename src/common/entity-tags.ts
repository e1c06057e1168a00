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
    writeUuid(id: string, bytes: Buffer): void {

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

    /** The members of an If-Match or If-None-Match list, trimmed. */
    members(header: string): string[] {

        return header.split(',').map((member) => member.trim());
    }
};


/** The opaque part of the task's ETag (hapi adds the quotes). */
export function entityTag(task: Pick<Task, 'id' | 'updated_at'>): string {

    const bytes = Buffer.allocUnsafe(24);
    internals.writeUuid(task.id, bytes);

    // Microseconds as two 32-bit halves, without BigInt on every answer, while they are exact as a number (every
    // updated_at the clock gives, until the year 2255); BigInt beyond.
    const updated = task.updated_at;
    const micros = Date.parse(`${updated.slice(0, 23)}Z`) * 1000 + Number(updated.slice(23, 26));
    if (Number.isSafeInteger(micros)) {
        const high = Math.floor(micros / 0x1_0000_0000);
        bytes.writeInt32BE(high, 16);
        bytes.writeUInt32BE(micros - high * 0x1_0000_0000, 20);
    }
    else {
        bytes.writeBigInt64BE(internals.micros(updated), 16);
    }

    return bytes.toString('base64url');
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
