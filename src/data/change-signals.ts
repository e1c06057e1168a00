import Pg from 'pg';

import type { DatabaseConfig } from '../config';
import { changeChannel } from './change-announcer';
import type { Database } from './database';
import { explainingClient, postgresConnection } from './postgres-tls';
import { statement } from './query';


/**
 * How a server process learns that a user's tasks changed, whichever process (or replica, or todo-admin) wrote them:
 * every new version of a user notifies `todo_api_changes`, with `<user id>:<version>` from the trigger when its write
 * commits (the migration 20261207110000), or with `<user id>:` just after the commit when the service wrote it
 * (change-announcer.ts). On PostgreSQL one connection per process listens for it, reconnecting with backoff.
 * Beside it, a poll of the watched users' versions (one statement per process per tick, whatever the number of
 * streams) finds what a lost notification would have said: a change is then late, never lost.
 *
 * The embedded database has no listening connection: its socket server runs every client's statements in one
 * session, so a notification comes out on whichever connection runs the next statement. There the poll alone runs,
 * often enough (pollMs) that a change still arrives within a fraction of a second.
 */
export interface ChangeSignals {
    /** Calls `onVersion` with the user's versions as they are learnt (not in order, maybe twice); returns the call that stops it. */
    watch(userId: string, onVersion: (version: number) => void): () => void;
    close(): Promise<void>;
}


export interface ChangeSignalOptions {
    /** DATABASE_LISTEN_URL: where to listen when DATABASE_URL goes through a transaction pooler. */
    listenUrl: string | null;
    /** How often the watched users' versions are read on PostgreSQL (where notifications come first). */
    catchUpMs: number;
    log(tags: string[], data: unknown): void;
}


const internals = {
    embeddedPollMs: 200,
    backoff: { firstMs: 100, maxMs: 5000 },

    versions: statement('changes.watched-versions', 'select user_id, version from user_versions where user_id = any($1::text[])'),

    /**
     * `<user id>:<version>`, or `<user id>:` for a version newer than any a stream has sent (the service's own
     * announcement, which does not know its number); a user id may itself hold a colon.
     */
    parse(payload: string | undefined): { userId: string; version: number } | null {

        const at = payload?.lastIndexOf(':') ?? -1;
        if (!payload || at < 1) {
            return null;
        }

        const text = payload.slice(at + 1);
        const version = text === '' ? Number.MAX_SAFE_INTEGER : Number(text);
        return Number.isSafeInteger(version) ? { userId: payload.slice(0, at), version } : null;
    }
};


/** The signals of this process's database: a listening connection on PostgreSQL, and the poll everywhere. */
export function changeSignals(config: DatabaseConfig, db: Pick<Database, 'query'>, options: ChangeSignalOptions): ChangeSignals {

    const watchers = new Map<string, Set<(version: number) => void>>();
    let closed = false;

    const dispatch = (userId: string, version: number) => {

        for (const onVersion of watchers.get(userId) ?? []) {
            onVersion(version);
        }
    };

    let polling: Promise<void> | null = null;
    const poll = () => {

        if (polling || closed || !watchers.size) {
            return;
        }

        polling = db.query<{ user_id: string; version: string }>(internals.versions, [[...watchers.keys()]])
            .then(({ rows }) => {

                for (const row of rows) {
                    dispatch(row.user_id, Number(row.version));
                }
            })
            .catch((err: Error) => options.log(['stream', 'database', 'warn'], { msg: `reading the watched users' versions failed: ${err.message}` }))
            .finally(() => (polling = null));
    };

    // Opened with the first stream, so that a process that never streams holds no connection for it.
    let timer: NodeJS.Timeout | null = null;
    let listener: { close(): Promise<void> } | null = null;
    const start = () => {

        timer = setInterval(poll, config.kind === 'postgres' ? options.catchUpMs : internals.embeddedPollMs);
        timer.unref();
        listener = config.kind === 'postgres' ? listenForChanges(config, options, dispatch, poll) : null;
    };

    return {
        watch(userId, onVersion) {

            if (!timer && !closed) {
                start();
            }

            let forUser = watchers.get(userId);
            if (!forUser) {
                forUser = new Set();
                watchers.set(userId, forUser);
            }

            forUser.add(onVersion);
            return () => {

                forUser.delete(onVersion);
                if (!forUser.size && watchers.get(userId) === forUser) {
                    watchers.delete(userId);
                }
            };
        },

        async close() {

            closed = true;
            if (timer) {
                clearInterval(timer);
            }

            await listener?.close();
            await polling;
        }
    };
}


/**
 * One connection that LISTENs, opened again with backoff whenever it fails. After each (re)connection the watched
 * users' versions are read at once (`resync`): notifications sent while it was down are not replayed.
 */
function listenForChanges(config: Extract<DatabaseConfig, { kind: 'postgres' }>, options: ChangeSignalOptions, dispatch: (userId: string, version: number) => void, resync: () => void): { close(): Promise<void> } {

    // DATABASE_LISTEN_URL's TLS is what its own sslmode and sslrootcert say.
    const target = postgresConnection(options.listenUrl ? { ...config, url: options.listenUrl, tls: undefined } : config);
    const Client = explainingClient(target.tls, target.host);
    let client: Pg.Client | null = null;
    let closed = false;
    let delayMs = internals.backoff.firstMs;
    let retry: NodeJS.Timeout | null = null;

    const again = (err: Error) => {

        if (closed || retry) {
            return;
        }

        options.log(['stream', 'database', 'warn'], { msg: `listening for changes failed: ${err.message}; again in ${delayMs} ms` });
        client?.removeAllListeners();
        client?.on('error', () => undefined);
        void client?.end().catch(() => undefined);
        client = null;
        retry = setTimeout(() => {

            retry = null;
            void connect();
        }, delayMs);
        retry.unref();
        delayMs = Math.min(delayMs * 2, internals.backoff.maxMs);
    };

    const connect = async () => {

        const opened = new Client({ ...target.connection, application_name: 'todo-api listen' });
        client = opened;
        opened.on('error', again);
        opened.on('end', () => again(new Error('the connection ended')));
        opened.on('notification', (message) => {

            const signal = internals.parse(message.payload);
            if (signal) {
                dispatch(signal.userId, signal.version);
            }
        });

        try {
            await opened.connect();
            await opened.query(`listen ${changeChannel}`);
            if (closed) {
                await opened.end();
                return;
            }

            delayMs = internals.backoff.firstMs;
            resync();
        }
        catch (err) {
            if (client === opened) {
                again(err as Error);
            }
        }
    };

    void connect();

    return {
        async close() {

            closed = true;
            if (retry) {
                clearTimeout(retry);
            }

            const open = client;
            client = null;
            open?.removeAllListeners();
            open?.on('error', () => undefined);
            await open?.end().catch(() => undefined);
        }
    };
}


const headStatement = statement('changes.head', 'select coalesce((select version from user_versions where user_id = $1), 0) as version');


/** The user's latest version: where a stream that starts at now starts. */
export async function headVersion({ query }: Pick<Database, 'query'>, userId: string): Promise<number> {

    const { rows: [row] } = await query<{ version: string }>(headStatement, [userId]);
    return Number(row.version);
}
