import Fs from 'node:fs';
import Path from 'node:path';


/**
 * Files that hold secrets or a whole database (the embedded data directory, the development secret) must be this
 * user's own and closed to everyone else, as PostgreSQL demands of its data directory: another local account that
 * can change them can read or rewrite every user's tasks, or plant a secret and sign tokens with it. Where the
 * system has no owners and modes (Windows) nothing is checked.
 */
export class NotPrivateError extends Error {

    constructor(message: string) {

        super(message);
        this.name = 'NotPrivateError';
    }
}


const internals = {
    // Group and others.
    othersBits: 0o077,

    uid(): number | null {

        return process.geteuid?.() ?? null;
    },

    mode(stat: Fs.Stats): string {

        return (stat.mode & 0o777).toString(8).padStart(4, '0');
    },

    /** Why an entry is not this user's own, or null when it is. */
    foreign(stat: Fs.Stats, uid: number): string | null {

        return stat.uid === uid ? null : `belongs to uid ${stat.uid}, not to this user (uid ${uid})`;
    }
};


/**
 * Makes dir when missing (mode 0700), or takes an existing one as it is when it is this user's own directory, its
 * mode narrowed to 0700. A path that is not a directory, or one another user owns, is refused.
 */
export function privateDirectory(dir: string): void {

    Fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const uid = internals.uid();
    if (uid === null) {
        return;
    }

    const stat = Fs.statSync(dir);
    if (!stat.isDirectory()) {
        throw new NotPrivateError(`${dir} is not a directory`);
    }

    const foreign = internals.foreign(stat, uid);
    if (foreign) {
        throw new NotPrivateError(`the directory ${dir} ${foreign}: give it to the user the service runs as (chown), or use another directory`);
    }

    if (stat.mode & internals.othersBits) {
        Fs.chmodSync(dir, 0o700);
    }
}


/**
 * Narrows everything under dir to this user: directories 0700, files 0600. An entry another user owns is refused,
 * not adopted: it was put there by someone else.
 */
export function privateTree(dir: string): void {

    const uid = internals.uid();
    if (uid === null) {
        return;
    }

    for (const entry of Fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
        const path = Path.join(entry.parentPath, entry.name);
        const stat = Fs.lstatSync(path);
        const foreign = internals.foreign(stat, uid);
        if (foreign) {
            throw new NotPrivateError(`${path} ${foreign}: the directory ${dir} has been written by someone else`);
        }

        if (stat.isSymbolicLink()) {
            continue;
        }

        const mode = stat.isDirectory() ? 0o700 : 0o600;
        if ((stat.mode & 0o777) !== mode) {
            Fs.chmodSync(path, mode);
        }
    }
}


/**
 * The text of a file that only this user can read and change: a regular file (not a link), owned by this user, with
 * no permission for anyone else. Null when it does not exist.
 */
export function readPrivateFile(file: string): string | null {

    let fd: number;
    try {
        fd = Fs.openSync(file, Fs.constants.O_RDONLY | (Fs.constants.O_NOFOLLOW ?? 0));
    }
    catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
            return null;
        }

        if (code === 'ELOOP') {
            throw new NotPrivateError(`${file} is a symbolic link: delete it`);
        }

        throw err;
    }

    try {
        const stat = Fs.fstatSync(fd);
        const uid = internals.uid();
        if (!stat.isFile()) {
            throw new NotPrivateError(`${file} is not a regular file: delete it`);
        }

        if (uid !== null) {
            const foreign = internals.foreign(stat, uid);
            if (foreign) {
                throw new NotPrivateError(`${file} ${foreign}: delete it`);
            }

            if (stat.mode & internals.othersBits) {
                throw new NotPrivateError(`${file} is open to other users (mode ${internals.mode(stat)}, not 0600): delete it`);
            }
        }

        return Fs.readFileSync(fd, 'utf8');
    }
    finally {
        Fs.closeSync(fd);
    }
}


/** Writes a new file of this user's only (mode 0600); false when the file exists already (it is left as it is). */
export function createPrivateFile(file: string, text: string): boolean {

    try {
        Fs.writeFileSync(file, text, { flag: 'wx', mode: 0o600 });
        return true;
    }
    catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
            return false;
        }

        throw err;
    }
}


/**
 * Makes a tree this user wrote readable by all and writable by this user alone: directories 0755, files 0644. For
 * what is shared but must not be changed by others (the copy of an empty database that new ones start from).
 */
export function readOnlyForOthers(path: string): void {

    const uid = internals.uid();
    if (uid === null) {
        return;
    }

    const entries = Fs.statSync(path).isDirectory() ?
        [path, ...Fs.readdirSync(path, { recursive: true }).map((entry) => Path.join(path, entry.toString()))] :
        [path];

    for (const entry of entries) {
        const stat = Fs.lstatSync(entry);
        if (stat.uid !== uid || stat.isSymbolicLink()) {
            continue;
        }

        const mode = (stat.mode & 0o777 & ~0o022) | (stat.isDirectory() ? 0o755 : 0o644);
        if ((stat.mode & 0o777) !== mode) {
            Fs.chmodSync(entry, mode);
        }
    }
}


/**
 * Why path (and everything under it, and the directory holding it) cannot be trusted to be as this user or the
 * system left it: an entry owned by another user, or one that group or others may write. Null when it can.
 */
export function untrustedEntry(path: string): string | null {

    const uid = internals.uid();
    if (uid === null) {
        return null;
    }

    const check = (entry: string): string | null => {

        const stat = Fs.lstatSync(entry);
        if (stat.uid !== uid && stat.uid !== 0) {
            return `${entry} belongs to uid ${stat.uid}`;
        }

        // A directory with the sticky bit (the system's temporary directory) lets others add entries, not replace ours.
        const sticky = stat.isDirectory() && (stat.mode & 0o1000) !== 0;
        return !stat.isSymbolicLink() && !sticky && (stat.mode & 0o022) ? `${entry} can be changed by other users (mode ${internals.mode(stat)})` : null;
    };

    const parent = check(Path.dirname(path));
    if (parent) {
        return parent;
    }

    const entries = Fs.statSync(path).isDirectory() ?
        [path, ...Fs.readdirSync(path, { recursive: true }).map((entry) => Path.join(path, entry.toString()))] :
        [path];

    for (const entry of entries) {
        const problem = check(entry);
        if (problem) {
            return problem;
        }
    }

    return null;
}
