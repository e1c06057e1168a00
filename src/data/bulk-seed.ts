import type { Database } from './database';


export interface BulkSeedOptions {
    users: number;
    tasksPerUser: number;
    /**
     * Lists each new user gets (none when left out): then three tasks in four are in one of them, in turn, and the
     * fourth in the inbox, as a user who sorts most of their tasks has them.
     */
    listsPerUser?: number;
    /** Users per transaction (each with all of their tasks). */
    batch: number;
    /** Batches in flight at once, each on its own connection. */
    concurrency?: number;
    onBatch?(progress: BulkSeedProgress): void;
}


export interface BulkSeedProgress {
    /** Synthetic users looked at so far, of options.users (batches may finish out of order). */
    usersDone: number;
    usersAdded: number;
    tasksAdded: number;
}


const internals = {
    // Synthetic users are load-1 ... load-N, so a second run finds the ones it made before.
    userIdPrefix: 'load-',
    emailDomain: 'load.example.test'
};


export function syntheticUserId(n: number): string {

    return `${internals.userIdPrefix}${n}`;
}


/**
 * Makes sure synthetic users 1..N exist, giving each user it creates M tasks. Rows are generated inside
 * PostgreSQL (generate_series), one transaction per batch of users, so nothing large crosses the wire.
 * Users that already exist are left as they are: running it twice adds nothing.
 */
export async function bulkSeed(db: Database, options: BulkSeedOptions): Promise<BulkSeedProgress> {

    const progress: BulkSeedProgress = { usersDone: 0, usersAdded: 0, tasksAdded: 0 };
    let next = 1;

    const seedBatch = async (first: number, last: number) => {

        // Resolves once committed, so the totals never count a batch that rolled back.
        const added = await db.knex.transaction(async (trx) => {

            const users = await trx.raw(`
                insert into users (id, email, name)
                select ? || n, ? || n || '@' || ?, 'Load user ' || n
                from generate_series(?::int, ?::int) as n
                on conflict do nothing
                returning id`,
            [internals.userIdPrefix, internals.userIdPrefix, internals.emailDomain, first, last]);

            const ids: string[] = users.rows.map((row: { id: string }) => row.id);
            let tasks = 0;
            const lists = ids.length ? options.listsPerUser ?? 0 : 0;

            // Lists first, in order, each a change of its user's as the tasks are.
            if (lists > 0) {
                await trx.raw(`
                    with bumped as materialized (
                        select u.id, tasks_bump_version(u.id, ?::int) as version
                        from unnest(string_to_array(?::text, ',')) as u(id)
                    )
                    insert into lists (user_id, name, position, version)
                    select u.id, 'List ' || l, position_key(l), u.version - ?::int + l
                    from bumped as u cross join generate_series(1, ?::int) as l`,
                [lists, ids.join(','), lists, lists]);
            }

            if (ids.length && options.tasksPerUser > 0) {
                // Task t of M is t seconds older than the next, so lists and pages have a stable order. Each user
                // takes M versions at once (its tasks are changes the feed shows), before any task is written. A
                // task's position comes from its version (the trigger tasks_place): the latest last.
                const inserted = await trx.raw(`
                    with bumped as materialized (
                        select u.id, tasks_bump_version(u.id, ?::int) as version
                        from unnest(string_to_array(?::text, ',')) as u(id)
                    ),
                    owned as (
                        select bumped.id, bumped.version,
                            (select array_agg(lists.id order by lists.position) from lists where lists.user_id = bumped.id) as lists
                        from bumped
                    )
                    insert into tasks (user_id, title, completed, priority, created_at, updated_at, version, list_id)
                    select u.id, 'Task ' || t, t % 4 = 0, (array['low', 'medium', 'high'])[1 + t % 3], stamp, stamp, u.version - ?::int + t,
                        case when t % 4 <> 0 then u.lists[1 + t % cardinality(u.lists)] end
                    from owned as u
                    cross join generate_series(1, ?::int) as t
                    cross join lateral (select now() - (?::int - t) * interval '1 second' as stamp) as s`,
                [options.tasksPerUser, ids.join(','), options.tasksPerUser, options.tasksPerUser, options.tasksPerUser]);

                tasks = inserted.rowCount;
            }

            return { users: ids.length, tasks };
        });

        progress.usersAdded += added.users;
        progress.tasksAdded += added.tasks;
        progress.usersDone += last - first + 1;
        options.onBatch?.({ ...progress });
    };

    // Each worker takes the next range of users until none is left.
    const worker = async () => {

        while (next <= options.users) {
            const first = next;
            const last = Math.min(first + options.batch - 1, options.users);
            next = last + 1;
            await seedBatch(first, last);
        }
    };

    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
    return progress;
}
