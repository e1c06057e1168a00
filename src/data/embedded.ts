import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

import { privateDirectory, privateTree } from '../private-files';
import { openPglite } from './embedded-template';


/** Who may hold the embedded data directory: the server, or a todo-admin command run while no server is up. */
export type EmbeddedRole = 'todo-api' | 'todo-admin';


/**
 * Where the owner serves the database to other processes, for pg to connect to: a Unix socket only this user can
 * reach. The database has no password and every session is its superuser, so it is never served on TCP.
 */
export interface EmbeddedSocket {
    path: string;
}


/** What the lock file in the data directory says of its owner. */
export interface EmbeddedOwner {
    role: EmbeddedRole;
    pid: number;
    /** Identifies the process beyond its pid (Linux: boot id and start time), so that a reused pid is not taken for it. */
    process: string | null;
    since: string;
    /** Null while the owner serves nobody: a todo-admin command, or a server still starting. */
    socket: EmbeddedSocket | null;
}


/** No path for the socket fits in a Unix socket address: the database cannot be served safely, so it is not served. */
export class EmbeddedSocketPathTooLong extends Error {

    constructor(public readonly dataDir: string, public readonly path: string) {

        super(`no socket can be made for the embedded database in ${dataDir}: its path is too long for a Unix socket, and so is ` +
            `${path} in the temporary directory; use a data directory with a shorter path (DATABASE_URL=pglite://DIR), or ` +
            'set TMPDIR to a shorter directory');
        this.name = 'EmbeddedSocketPathTooLong';
    }
}


/** Another process owns the data directory, and it cannot be shared with it. */
export class EmbeddedDatabaseInUse extends Error {

    constructor(public readonly dataDir: string, public readonly owner: EmbeddedOwner) {

        const who = owner.role === 'todo-api' ? 'the todo-api server' : 'a todo-admin command';
        super(`the embedded database in ${dataDir} is in use by ${who} (pid ${owner.pid}, since ${owner.since})`);
        this.name = 'EmbeddedDatabaseInUse';
    }
}


/** The data directory, owned by this process until close(). */
export interface OwnedEmbeddedDatabase {
    pglite: PGlite;
    /** Where other processes reach it, when it is served. */
    socket: EmbeddedSocket | null;
    /** Stops serving, closes the database, and gives the directory up (in that order). */
    close(): Promise<void>;
}


const internals = {
    lockFile: 'todo-api.lock',
    // PostgreSQL's own name for its socket, so `psql -h DIR` finds it too.
    socketFile: '.s.PGSQL.5432',
    // sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included.
    maxSocketPathBytes: 103,
    // The server's pool, a todo-admin command and a psql session at once; more are refused.
    maxSocketConnections: 16,
    // A lock file with no readable owner yet is being written; past this age it is debris.
    unreadableGraceMs: 2000,
    // A stale lock is removed by one process at a time, under this directory; a breaker that died leaves it behind.
    breakerStaleMs: 5000,
    attempts: 200,

    sleep: (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)),

    /** This process as /proc tells it apart from a later process given the same pid; null where there is no /proc. */
    processIdentity(pid: number): string | null {

        try {
            const bootId = Fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
            const stat = Fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
            // Field 22, counted after the command name, which is in parentheses and may hold spaces.
            const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
            return `${bootId}:${startTime}`;
        }
        catch {
            return null;
        }
    },

    alive(owner: EmbeddedOwner): boolean {

        try {
            process.kill(owner.pid, 0);
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EPERM') {
                return false;
            }
        }

        const identity = internals.processIdentity(owner.pid);
        return owner.process === null || identity === null || identity === owner.process;
    },

    /** The lock's owner; 'unreadable' while it is being written (or when it is debris). */
    read(lockPath: string): EmbeddedOwner | 'unreadable' | null {

        let text: string;
        try {
            text = Fs.readFileSync(lockPath, 'utf8');
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
                return null;
            }

            throw err;
        }

        try {
            const owner = JSON.parse(text) as EmbeddedOwner;
            return typeof owner?.pid === 'number' && (owner.role === 'todo-api' || owner.role === 'todo-admin') ? owner : 'unreadable';
        }
        catch {
            return 'unreadable';
        }
    },

    ageMs(path: string): number {

        try {
            return Date.now() - Fs.statSync(path).mtimeMs;
        }
        catch {
            return 0;
        }
    },

    write(lockPath: string, owner: EmbeddedOwner, flag: 'wx' | 'w'): void {

        // The whole record in one write, so that a reader sees all of it or nothing parsable.
        Fs.writeFileSync(lockPath, JSON.stringify(owner), { flag, mode: 0o600 });
    },

    /**
     * Removes a lock whose owner is gone, unless it changed since it was judged stale. One process at a time does
     * this (the breaker directory is created atomically), so a fresh lock written meanwhile is never removed.
     */
    async breakStale(lockPath: string, seen: string): Promise<void> {

        const breaker = `${lockPath}.break`;
        try {
            Fs.mkdirSync(breaker);
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
                throw err;
            }

            if (internals.ageMs(breaker) > internals.breakerStaleMs) {
                Fs.rmSync(breaker, { recursive: true, force: true });
            }

            await internals.sleep(10);
            return;
        }

        try {
            if (Fs.readFileSync(lockPath, 'utf8') === seen) {
                Fs.unlinkSync(lockPath);
            }
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
                throw err;
            }
        }
        finally {
            Fs.rmdirSync(breaker);
        }
    },

    // A socket outside the data directory gets a directory of its own, named so that one left by a crash is known.
    socketDirPrefix: 'todo-api-socket-',

    fits: (path: string) => Buffer.byteLength(path) <= internals.maxSocketPathBytes,

    /**
     * A short directory of this user's where a socket can live: $XDG_RUNTIME_DIR (made by the system for this user,
     * mode 0700) when it is set and is that, else the system's temporary directory.
     */
    runtimeDirectory(): string {

        const runtime = process.env.XDG_RUNTIME_DIR;
        if (runtime && Path.isAbsolute(runtime)) {
            try {
                const stat = Fs.statSync(runtime);
                if (stat.isDirectory() && stat.uid === process.geteuid?.() && (stat.mode & 0o077) === 0) {
                    return runtime;
                }
            }
            catch {
                // Not there: the temporary directory will do.
            }
        }

        return Os.tmpdir();
    },

    /**
     * Where the socket goes: in the data directory when the path fits in a socket address, else in a new directory
     * of its own (mode 0700, so no other user can reach the socket) under the runtime directory. Throws when neither
     * fits: the database is then not served at all.
     */
    socketFor(dataDir: string): { path: string; ownDirectory: string | null } {

        const inData = Path.join(dataDir, internals.socketFile);
        if (internals.fits(inData)) {
            return { path: inData, ownDirectory: null };
        }

        const base = Path.join(internals.runtimeDirectory(), `${internals.socketDirPrefix}XXXXXX`);
        if (!internals.fits(Path.join(base, internals.socketFile))) {
            throw new EmbeddedSocketPathTooLong(dataDir, Path.join(base, internals.socketFile));
        }

        const ownDirectory = Fs.mkdtempSync(base.slice(0, -'XXXXXX'.length));
        return { path: Path.join(ownDirectory, internals.socketFile), ownDirectory };
    },

    /** Removes a socket directory of ours that an owner which died left behind (the lock named it). */
    removeSocketDirectory(owner: EmbeddedOwner | 'unreadable' | null, dataDir: string): void {

        const dir = typeof owner === 'object' && typeof owner?.socket?.path === 'string' ? Path.dirname(owner.socket.path) : null;
        if (!dir || dir === dataDir || !Path.basename(dir).startsWith(internals.socketDirPrefix)) {
            return;
        }

        try {
            if (Fs.lstatSync(dir).uid === process.geteuid?.()) {
                Fs.rmSync(dir, { recursive: true, force: true });
            }
        }
        catch {
            // Gone already.
        }
    }
};


export function lockPathOf(dataDir: string): string {

    return Path.join(dataDir, internals.lockFile);
}


/** The live owner of the data directory, or null when nobody holds it (a lock left by a process that died counts as none). */
export function embeddedOwner(dataDir: string): EmbeddedOwner | null {

    const owner = internals.read(lockPathOf(dataDir));
    return owner && owner !== 'unreadable' && internals.alive(owner) ? owner : null;
}


/**
 * Makes this process the one owner of the data directory, or throws EmbeddedDatabaseInUse naming the process that
 * is. Two PostgreSQL instances on one directory overwrite each other's pages, so there is never a second one: a lock
 * file names the owner, and a lock whose process has died (a crash, SIGKILL) is taken over.
 */
export async function lockEmbedded(dataDir: string, role: EmbeddedRole): Promise<{ update(socket: EmbeddedSocket | null): void; release(): void }> {

    privateDirectory(dataDir);
    const lockPath = lockPathOf(dataDir);
    const mine: EmbeddedOwner = {
        role,
        pid: process.pid,
        process: internals.processIdentity(process.pid),
        since: new Date().toISOString(),
        socket: null
    };

    for (let attempt = 0; attempt < internals.attempts; ++attempt) {
        try {
            internals.write(lockPath, mine, 'wx');
            return {
                update(socket) {

                    mine.socket = socket;
                    internals.write(lockPath, mine, 'w');
                },
                release() {

                    const current = internals.read(lockPath);
                    if (current && current !== 'unreadable' && current.pid === mine.pid && current.since === mine.since) {
                        Fs.rmSync(lockPath, { force: true });
                    }
                }
            };
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
                throw err;
            }
        }

        const owner = internals.read(lockPath);
        if (owner === 'unreadable' && internals.ageMs(lockPath) < internals.unreadableGraceMs) {
            await internals.sleep(10);
            continue;
        }

        if (owner && owner !== 'unreadable' && internals.alive(owner)) {
            throw new EmbeddedDatabaseInUse(dataDir, owner);
        }

        let seen: string;
        try {
            seen = Fs.readFileSync(lockPath, 'utf8');
        }
        catch {
            continue;           // Gone already: try to create it again.
        }

        internals.removeSocketDirectory(owner, dataDir);
        await internals.breakStale(lockPath, seen);
    }

    throw new Error(`could not lock the embedded database in ${dataDir}: ${lockPath} keeps changing`);
}


/**
 * Opens the embedded database in dataDir as its one owner. With serve, it is also served on a Unix socket (in the
 * data directory, or in a private directory of its own when that path is too long for one) through which every
 * other process of this user, and this one's own pool, reach it: pglite-socket lets one session at a time run a
 * transaction.
 */
export async function ownEmbeddedDatabase(dataDir: string, { role, serve }: { role: EmbeddedRole; serve: boolean }): Promise<OwnedEmbeddedDatabase> {

    const lock = await lockEmbedded(dataDir, role);
    let pglite: PGlite | null = null;
    let server: PGLiteSocketServer | null = null;
    let socketDirectory: string | null = null;

    try {
        // Files someone else put in the directory are refused before the database reads them.
        privateTree(dataDir);
        pglite = await openPglite(dataDir);
        let socket: EmbeddedSocket | null = null;
        if (serve) {
            const place = internals.socketFor(dataDir);
            socketDirectory = place.ownDirectory;
            // A socket file left by an owner that died; the lock says it is ours now.
            Fs.rmSync(place.path, { force: true });

            server = new PGLiteSocketServer({ db: pglite, path: place.path, maxConnections: internals.maxSocketConnections });
            await server.start();
            Fs.chmodSync(place.path, 0o600);
            socket = { path: place.path };
            lock.update(socket);
        }

        const owned = { pglite, server };
        return {
            pglite,
            socket,
            async close() {

                lock.update(null);
                await owned.server?.stop();
                if (socketDirectory) {
                    Fs.rmSync(socketDirectory, { recursive: true, force: true });
                }

                // knex-pglite closes the instance when its pool is destroyed.
                if (!owned.pglite.closed) {
                    await owned.pglite.close();
                }

                lock.release();
            }
        };
    }
    catch (err) {
        await server?.stop().catch(() => undefined);
        await pglite?.close().catch(() => undefined);
        if (socketDirectory) {
            Fs.rmSync(socketDirectory, { recursive: true, force: true });
        }

        lock.release();
        throw err;
    }
}
