import { statement } from '../query';
import { utcTimestampColumn } from '../time';
import { bumpedVersion } from '../tasks/statements';
import { announcedVersions } from '../change-announcer';


// Every statement on lists: $1 is always the user's id, and in statements on one list $2 is its id. A list's writes
// take the user's versions as the tasks' do (the change feed reads them), and positions are unique among the
// user's lists (lists_user_position_idx).


export const listColumns = ['id', 'name', 'position', utcTimestampColumn('created_at'), utcTimestampColumn('updated_at')].join(', ');


const internals = {
    returning: `returning ${listColumns}`,

    touched: 'updated_at = greatest(clock_timestamp(), updated_at + interval \'1 microsecond\')'
};


export const listStatements = {
    // The user's lists in order, each with its pending tasks counted (the index on tasks' list_id reads them).
    all: statement('lists.all', `
        select ${listColumns},
            (select count(*) from tasks where tasks.user_id = $1 and tasks.list_id = lists.id and tasks.deleted_at is null and not tasks.completed)::int as open_count
        from lists where user_id = $1 order by position`),
    get: statement('lists.get', `select ${listColumns} from lists where user_id = $1 and id = $2`),
    // How many lists, and the last one's position.
    tally: statement('lists.tally', 'select count(*)::int as count, max(position) as last from lists where user_id = $1'),

    // $2 name, $3 position.
    create: statement('lists.create', `
        with ${bumpedVersion()}
        insert into lists (user_id, name, position, version) select $1, $2, $3, bumped.version from bumped
        ${internals.returning}`),
    // $3 name.
    rename: statement('lists.rename', `
        with ${bumpedVersion()}
        update lists set name = $3, ${internals.touched}, version = bumped.version from bumped
        where user_id = $1 and id = $2
        ${internals.returning}`),
    // $3 position.
    place: statement('lists.place', `
        with ${bumpedVersion()}
        update lists set position = $3, ${internals.touched}, version = bumped.version from bumped
        where user_id = $1 and id = $2
        ${internals.returning}`),

    // $2 the list to follow (null: the start), $3 the list placed (left out). The position to follow, and the next.
    neighbours: statement('lists.neighbours', `
        with anchor as (select position from lists where user_id = $1 and id = $2::uuid and id is distinct from $3::uuid)
        select exists (select 1 from anchor) as anchored, (select position from anchor) as before,
            (select position from lists where user_id = $1 and id is distinct from $3::uuid and position > coalesce((select position from anchor), '')
             order by position limit 1) as after`),
    // The lists in order, $2 left out.
    ordered: statement('lists.ordered', 'select id from lists where user_id = $1 and id is distinct from $2::uuid order by position'),
    setAside: statement('lists.set-aside', 'update lists set position = \'~\' || id::text where user_id = $1 and id = any($2::uuid[])'),
    // $2 ids, $3 their positions: each a change of its own.
    setPositions: statement('lists.set-positions', `
        with ${bumpedVersion('cardinality($2::uuid[])')}
        update lists set position = given.position, ${internals.touched}, version = bumped.version - cardinality($2::uuid[]) + given.n
        from unnest($2::uuid[], $3::text[]) with ordinality as given (id, position, n), bumped
        where lists.user_id = $1 and lists.id = given.id`),

    // The list's live tasks to the trash, each a change of its own.
    trashTasks: statement('lists.trash-tasks', `
        with doomed as (select id, row_number() over (order by id) as n from tasks where user_id = $1 and list_id = $2 and deleted_at is null),
        bumped as materialized (select ${announcedVersions}($1, count(*)) as version, count(*) as total from doomed having count(*) > 0)
        update tasks set deleted_at = now(), version = bumped.version - bumped.total + doomed.n from doomed, bumped
        where tasks.user_id = $1 and tasks.id = doomed.id and tasks.deleted_at is null`),
    // The list removed, leaving a tombstone for the feed (its tasks in the trash go to the inbox: the key's action).
    delete: statement('lists.delete', `
        with ${bumpedVersion()},
        gone as (delete from lists where user_id = $1 and id = $2 returning user_id, id)
        insert into task_tombstones (user_id, id, version, deleted_at, kind)
        select gone.user_id, gone.id, bumped.version, now(), 'list' from gone, bumped
        on conflict (user_id, id) do update set version = excluded.version, deleted_at = excluded.deleted_at, kind = excluded.kind`)
};
