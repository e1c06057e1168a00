import type { Statement } from './query';
import { statement } from './query';


/** The channel every new version of a user is notified on (see change-signals.ts, which listens to it). */
export const changeChannel = 'todo_api_changes';

/**
 * The function the service's writes take their versions with (migration 20261207120000): it marks the transaction
 * as one whose writer announces it, so that the trigger does not notify from inside it.
 */
export const announcedVersions = 'tasks_take_versions';


/**
 * Notifies `todo_api_changes` of the service's own writes once they have committed, with `<user id>:` (a new version
 * of that user, which the listeners read from the feed). A NOTIFY inside the write would hold a cluster-wide lock
 * through the write's commit flush, one notifying commit at a time; this one runs in a transaction of its own whose
 * commit does not wait for the flush, and takes the lock for no longer than it takes to queue the notifications.
 * Announcements that come while one is being sent go out together in the next statement. A failed one is logged
 * and dropped: the streams' catch-up (SSE_CATCHUP_S) finds what it would have said, so a change is late, not lost.
 */
export interface ChangeAnnouncer {
    /** Notifies, soon and without being waited for, that the user has a new version. */
    announce(userId: string): void;
    /** Resolves once every announcement made so far has been sent (or has failed). */
    flush(): Promise<void>;
}


const internals = {
    // synchronous_commit off for this transaction alone: a notification needs no durability.
    notify: statement('changes.announce', `
        select pg_notify('${changeChannel}', user_id || ':')
        from (select set_config('synchronous_commit', 'off', true)) as unflushed, unnest($1::text[]) as user_id`),

    versionTaking: new WeakMap<Statement, boolean>()
};


/** Whether the statement takes versions through announcedVersions, so that its writer has to announce it. */
export function takesAnnouncedVersions(written: Statement): boolean {

    let takes = internals.versionTaking.get(written);
    if (takes === undefined) {
        takes = written.text.includes(`${announcedVersions}(`);
        internals.versionTaking.set(written, takes);
    }

    return takes;
}


export function changeAnnouncer(run: (statement: Statement, values: unknown[]) => Promise<unknown>, warn: (message: string) => void): ChangeAnnouncer {

    let waiting = new Set<string>();
    let sending: Promise<void> | null = null;

    const send = () => {

        const userIds = [...waiting];
        waiting = new Set();
        sending = run(internals.notify, [userIds])
            .then(() => undefined, (err: Error) => warn(`notifying the streams of new changes failed (they find them at their next catch-up): ${err.message}`))
            .then(() => {

                sending = null;
                if (waiting.size) {
                    send();
                }
            });
    };

    return {
        announce(userId) {

            waiting.add(userId);
            if (!sending) {
                send();
            }
        },

        async flush() {

            while (sending) {
                await sending;
            }
        }
    };
}
