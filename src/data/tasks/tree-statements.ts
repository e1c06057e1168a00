import { announcedVersions } from '../change-announcer';
import { statement } from '../query';
import { utcTimestampColumn } from '../time';
import { noneId, placeExpression, taskColumns, taskColumnsOf } from './rows';
import { bumpedVersion } from './statements';


// The statements of tree.ts: where tasks are among their siblings, and the writes on subtrees. $1 is always the
// user's id; siblings are a range of places (siblingRange), $2 and $3.


/** The text every place of this list and parent starts with, and the first text past all of them. */
export function siblingRange(listId: string | null, parentId: string | null): [string, string] {

    const prefix = `${listId ?? noneId}/${parentId ?? noneId}/`;
    return [prefix, `${prefix.slice(0, -1)}0`];
}


const internals = {
    // How deep the walk up a task's parents goes before it stops: far past any depth allowed.
    maxWalk: 64,

    inRange: `${placeExpression} >= $2::text collate "C" and ${placeExpression} < $3::text collate "C"`
};


export const treeStatements = {
    // The user's lock: the same row every write's version takes, with no version taken.
    lock: statement('users.lock', 'select tasks_bump_version($1, 0)'),

    // $1 user, $2 id: a live task's place and depth.
    task: statement('tree.task', `
        with recursive up as (
            select parent_id, 1 as depth from tasks where user_id = $1 and id = $2 and deleted_at is null
            union all
            select tasks.parent_id, up.depth + 1 from tasks join up on tasks.id = up.parent_id
            where tasks.user_id = $1 and up.depth < ${internals.maxWalk}
        )
        select id, list_id, parent_id, position, ${utcTimestampColumn('updated_at')}, (select max(depth) from up) as depth
        from tasks where user_id = $1 and id = $2 and deleted_at is null`),

    // $1 user, $2 id: how many levels the live subtree of a task has (1: no children), and whether $3 is in it.
    subtree: statement('tree.subtree', `
        with recursive down as (
            select id, 1 as height from tasks where user_id = $1 and id = $2 and deleted_at is null
            union all
            select tasks.id, down.height + 1 from tasks join down on tasks.parent_id = down.id
            where tasks.user_id = $1 and tasks.deleted_at is null and down.height < ${internals.maxWalk}
        )
        select coalesce(max(height), 0) as height, coalesce(bool_or(id = $3::uuid), false) as holds from down`),

    // $1 user, $2 list.
    listExists: statement('tree.list-exists', 'select exists (select 1 from lists where user_id = $1 and id = $2) as present'),

    // $1 user, $2 and $3 the siblings' range (internals.range), $4 the sibling to follow (null: the start), $5 the
    // task placed (left out of its siblings; null for a new one). The position to follow, and the next one.
    neighbours: statement('tree.neighbours', `
        with anchor as (
            select position from tasks
            where user_id = $1 and id = $4::uuid and deleted_at is null and ${internals.inRange} and id is distinct from $5::uuid
        )
        select exists (select 1 from anchor) as anchored, (select position from anchor) as before,
            (select position from tasks
             where user_id = $1 and deleted_at is null and ${internals.inRange} and id is distinct from $5::uuid
                and position > coalesce((select position from anchor), '')
             order by ${placeExpression} limit 1) as after`),

    // $1 user, $2 and $3 the range: the first sibling's position (a create's usual place is before it).
    first: statement('tree.first', `
        select position from tasks where user_id = $1 and deleted_at is null and ${internals.inRange}
        order by ${placeExpression} limit 1`),

    // $1 user, $2 and $3 the range: the siblings in order, $4 left out.
    siblings: statement('tree.siblings', `
        select id from tasks where user_id = $1 and deleted_at is null and ${internals.inRange} and id is distinct from $4::uuid
        order by ${placeExpression}`),

    // Out of the way of the positions a rebalance gives (no key holds '~'). $2 the ids.
    setAside: statement('tree.set-aside', 'update tasks set position = \'~\' || id::text where user_id = $1 and id = any($2::uuid[]) and deleted_at is null'),

    // $2 ids, $3 their positions: each a change of its own.
    setPositions: statement('tree.set-positions', `
        with ${bumpedVersion('cardinality($2::uuid[])')}
        update tasks set position = given.position, updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond'),
            version = bumped.version - cardinality($2::uuid[]) + given.n
        from unnest($2::uuid[], $3::text[]) with ordinality as given (id, position, n), bumped
        where tasks.user_id = $1 and tasks.id = given.id and tasks.deleted_at is null`),

    // $2 id, $3 list, $4 parent, $5 position.
    place: statement('tree.place', `
        with ${bumpedVersion()}
        update tasks set list_id = $3::uuid, parent_id = $4::uuid, position = $5::text,
            updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond'), version = bumped.version
        from bumped where user_id = $1 and id = $2 and deleted_at is null
        returning ${taskColumns}`),

    // The live subtree under $2 (not $2 itself) into list $3, each task a change of its own.
    carry: statement('tree.carry', `
        with recursive down as (
            select id from tasks where user_id = $1 and parent_id = $2 and deleted_at is null
            union all
            select tasks.id from tasks join down on tasks.parent_id = down.id where tasks.user_id = $1 and tasks.deleted_at is null
        ),
        numbered as (select id, row_number() over (order by id) as n from down),
        bumped as materialized (select ${announcedVersions}($1, count(*)) as version, count(*) as total from numbered having count(*) > 0)
        update tasks set list_id = $3::uuid, updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond'),
            version = bumped.version - bumped.total + numbered.n
        from numbered, bumped
        where tasks.user_id = $1 and tasks.id = numbered.id and tasks.deleted_at is null`),

    // Trashes the live subtree of $2 (itself included), each task a change of its own; the row count is how many.
    trashSubtree: statement('tree.trash-subtree', `
        with recursive down as (
            select id from tasks where user_id = $1 and id = $2 and deleted_at is null
            union all
            select tasks.id from tasks join down on tasks.parent_id = down.id where tasks.user_id = $1 and tasks.deleted_at is null
        ),
        numbered as (select id, row_number() over (order by id) as n from down),
        bumped as materialized (select ${announcedVersions}($1, count(*)) as version, count(*) as total from numbered having count(*) > 0)
        update tasks set deleted_at = now(), version = bumped.version - bumped.total + numbered.n from numbered, bumped
        where tasks.user_id = $1 and tasks.id = numbered.id and tasks.deleted_at is null`),

    // The completed tasks and their subtrees.
    clearCompleted: statement('tree.clear-completed', `
        with recursive down as (
            select id from tasks where user_id = $1 and completed and deleted_at is null
            union
            select tasks.id from tasks join down on tasks.parent_id = down.id where tasks.user_id = $1 and tasks.deleted_at is null
        ),
        numbered as (select id, row_number() over (order by id) as n from down),
        bumped as materialized (select ${announcedVersions}($1, count(*)) as version, count(*) as total from numbered having count(*) > 0)
        update tasks set deleted_at = now(), version = bumped.version - bumped.total + numbered.n from numbered, bumped
        where tasks.user_id = $1 and tasks.id = numbered.id and tasks.deleted_at is null`),

    // $1 user, $2 id, $3 retention (days): a trashed task, whether its parent is live, and how many tasks were
    // trashed with it (its subtree, deleted at the same instant).
    trashed: statement('tree.trashed', `
        with recursive root as (
            select id, list_id, parent_id, position, deleted_at from tasks
            where user_id = $1 and id = $2 and deleted_at is not null and deleted_at > now() - $3::int * interval '1 day'
        ),
        down as (
            select id, 1 as height from root
            union all
            select tasks.id, down.height + 1 from tasks join down on tasks.parent_id = down.id, root
            where tasks.user_id = $1 and tasks.deleted_at = root.deleted_at and down.height < ${internals.maxWalk}
        )
        select root.list_id, root.parent_id, root.position,
            exists (select 1 from tasks where user_id = $1 and id = root.parent_id and deleted_at is null) as parent_live,
            (select count(*) from down)::int as size, (select max(height) from down)::int as height
        from root`),

    // $1 user, $2 the most tasks: how many are live, counting up to that.
    live: statement('tree.live', 'select count(*)::int as live from (select 1 from tasks where user_id = $1 and deleted_at is null limit $2) as held'),

    // Restores $2 and what was trashed with it; $2 takes parent $3 and position $4.
    restore: statement('tree.restore', `
        with recursive root as (
            select id, deleted_at from tasks where user_id = $1 and id = $2 and deleted_at is not null
        ),
        down as (
            select id from root
            union all
            select tasks.id from tasks join down on tasks.parent_id = down.id, root
            where tasks.user_id = $1 and tasks.deleted_at = root.deleted_at
        ),
        numbered as (select id, row_number() over (order by id) as n from down),
        bumped as materialized (select ${announcedVersions}($1, count(*)) as version, count(*) as total from numbered having count(*) > 0),
        restored as (
            update tasks set deleted_at = null,
                parent_id = case when tasks.id = $2 then $3::uuid else tasks.parent_id end,
                position = case when tasks.id = $2 then $4::text else tasks.position end,
                updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond'),
                version = bumped.version - bumped.total + numbered.n
            from numbered, bumped
            where tasks.user_id = $1 and tasks.id = numbered.id and tasks.deleted_at is not null
            returning ${taskColumnsOf('tasks')}
        )
        select to_json(restored) as task from restored where id = $2`),

    // $2 id, $3 position: whether a live sibling of the task's place holds the position.
    positionTaken: statement('tree.position-taken', `
        select exists (select 1 from tasks where user_id = $1 and deleted_at is null and ${placeExpression} = $2::text collate "C") as taken`)
};
