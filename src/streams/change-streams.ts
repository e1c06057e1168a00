import { PassThrough } from 'node:stream';

import type { StreamConfig } from '../config';
import type { ChangeSignals } from '../data/change-signals';
import type { Database } from '../data/database';
import type { ChangeRead } from '../data/tasks/changes';
import { readChanges } from '../data/tasks/changes';
import { encodeFeedCursor } from '../common/cursors';
import { changeBody } from './change-body';


/**
 * This process's live streams of changes (GET /api/changes/stream): how many each user has open, and each stream's
 * work. A stream holds the version it has sent up to; whenever it may be behind (a signal of a newer version of its
 * user, see change-signals.ts), it reads the feed after that version and writes each change as an event whose id is
 * the feed's cursor after it. Reads of one stream never overlap, so events go out in the feed's order, each once;
 * the streams of one user at one version share a read.
 */
export interface ChangeStreams {
    /** The user's open streams on this process. */
    count(userId: string): number;
    /** Opens a stream after `version`, which ends at `untilMs` (the token's expiry), at close, or when it falls behind. */
    open(userId: string, version: number, untilMs: number, cutOff: () => void): PassThrough;
    /** Ends every stream (the server is stopping): clients reconnect elsewhere with their last id. */
    closeAll(): void;
}


export interface ChangeStreamOptions {
    db: Pick<Database, 'query'>;
    signals: ChangeSignals;
    config: StreamConfig;
    log(tags: string[], data: unknown): void;
}


const internals = {
    pageSize: 100,
    heartbeat: ': heartbeat\n\n',
    // setTimeout's longest delay; a stream whose token outlives it ends then, and the client reconnects.
    maxTimerMs: 2 ** 31 - 1
};


export function changeStreams({ db, signals, config, log }: ChangeStreamOptions): ChangeStreams {

    const open = new Map<string, Set<() => void>>();

    // The feed's reads in flight, by user and version, so that a user's streams woken by one change read it once
    // between them. A stream joins a read only if it started after the signal that woke the stream (`sequence`
    // orders both): that read's snapshot holds the change the signal was about.
    const reads = new Map<string, { startedAt: number; read: Promise<ChangeRead> }>();
    let sequence = 0;
    const readAfter = (userId: string, version: number, wokeAt: number): Promise<ChangeRead> => {

        const key = `${version}:${userId}`;
        const shared = reads.get(key);
        if (shared && shared.startedAt > wokeAt) {
            return shared.read;
        }

        const started = { startedAt: ++sequence, read: readChanges(db, userId, version, internals.pageSize) };
        reads.set(key, started);
        const forget = () => {

            if (reads.get(key) === started) {
                reads.delete(key);
            }
        };

        started.read.then(forget, forget);
        return started.read;
    };

    return {
        count(userId) {

            return open.get(userId)?.size ?? 0;
        },

        open(userId, since, untilMs, cutOff) {

            const out = new PassThrough();
            let version = since;
            let reading = false;
            let again = false;
            let ended = false;
            // When the stream last learnt that it may be behind.
            let wokeAt = ++sequence;

            const backlog = () => out.writableLength + out.readableLength;

            const end = (how: 'end' | 'cut') => {

                if (ended) {
                    return;
                }

                ended = true;
                clearInterval(heartbeat);
                clearTimeout(expiry);
                unwatch();
                const forUser = open.get(userId);
                forUser?.delete(close);
                if (!forUser?.size) {
                    open.delete(userId);
                }

                if (how === 'cut') {
                    cutOff();
                    out.destroy();
                    return;
                }

                out.end();
            };

            const close = () => end('end');

            // Past the bound only after the client had time to read what was waiting: it is not reading.
            const behind = async () => {

                if (out.writableNeedDrain) {
                    await drained(out, config.catchUpSec * 1000);
                }

                if (!ended && backlog() > config.maxBacklogBytes) {
                    log(['stream', 'info'], { msg: 'a live stream\'s client reads too slowly: cut off', user: userId, backlog_bytes: backlog() });
                    end('cut');
                }

                return ended;
            };

            // Reads the feed after `version` until it has sent everything there is; a wake-up during a read reads again.
            const catchUp = async () => {

                if (reading) {
                    again = true;
                    return;
                }

                reading = true;
                try {
                    do {
                        again = false;
                        let more = true;
                        while (more && !await behind()) {
                            const read = await readAfter(userId, version, wokeAt);
                            if (ended) {
                                return;
                            }

                            if (read.outcome === 'forgotten') {
                                // Purged past this stream's place: the client's next connection answers 410.
                                end('end');
                                return;
                            }

                            for (const change of read.changes) {
                                out.write(`id: ${encodeFeedCursor(userId, change.version)}\nevent: change\ndata: ${JSON.stringify(changeBody(change))}\n\n`);
                            }

                            version = read.version;
                            more = read.more;
                        }
                    }
                    while (again && !ended);
                }
                catch (err) {
                    // The database is away: the next signal or catch-up reads again from the same place.
                    log(['stream', 'database', 'warn'], { msg: `a live stream could not read the feed: ${(err as Error).message}`, user: userId });
                }
                finally {
                    reading = false;
                }
            };

            const unwatch = signals.watch(userId, (known) => {

                if (known > version) {
                    wokeAt = ++sequence;
                    void catchUp();
                }
            });

            const heartbeat = setInterval(() => {

                if (backlog() > config.maxBacklogBytes) {
                    void behind();
                    return;
                }

                out.write(internals.heartbeat);
            }, config.heartbeatSec * 1000);
            const expiry = setTimeout(close, Math.min(Math.max(untilMs - Date.now(), 0), internals.maxTimerMs));
            out.on('close', close);

            let forUser = open.get(userId);
            if (!forUser) {
                forUser = new Set();
                open.set(userId, forUser);
            }

            forUser.add(close);

            // Tells the client (and any proxy) the stream is open before the first change; then what it missed.
            out.write(': open\n\n');
            void catchUp();
            return out;
        },

        closeAll() {

            for (const forUser of [...open.values()]) {
                for (const close of [...forUser]) {
                    close();
                }
            }
        }
    };
}


/** Resolves when the stream has room again, or after waitMs (a client that is not reading is then cut off by its backlog). */
function drained(out: PassThrough, waitMs: number): Promise<void> {

    return new Promise((resolve) => {

        const done = () => {

            clearTimeout(timer);
            out.off('drain', done);
            out.off('close', done);
            resolve();
        };

        const timer = setTimeout(done, waitMs);
        out.on('drain', done);
        out.on('close', done);
    });
}
