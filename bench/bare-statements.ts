// The peers' SQL: the statements src/data/tasks/statements.ts sends for the four scenarios, written out, each with the name
// under which pg prepares it once per connection (a named prepared statement: parsed and planned once, then only
// bound and executed). npm run bench compares them with what the service sends before it measures anything, so a
// change to the service's statements has to be made here too (and the peers keep doing the same work).
const internals = {
    timestamp(column: string): string {

        return `(${column} at time zone 'UTC')::text as ${column}`;
    }
};


const columns = [
    'id', 'user_id', 'title', 'description', 'completed', 'priority',
    internals.timestamp('due_date'), 'list_id', 'parent_id', 'position', internals.timestamp('created_at'), internals.timestamp('updated_at')
].join(', ');

// A task's place (list, parent, position) as one text, as the index tasks_user_place_idx holds it.
const none = '\'00000000-0000-0000-0000-000000000000\'::uuid';
const place = `(coalesce(list_id, ${none})::text || '/' || coalesce(parent_id, ${none})::text || '/' || position) collate "C"`;

const touched = 'updated_at = greatest(clock_timestamp(), updated_at + interval \'1 microsecond\')';


// The create's own check of the task limit: the user's live tasks ($1) counted up to the limit ($7).
const room = '(select count(*) from (select 1 from tasks where user_id = $1 and deleted_at is null limit $7) as held) < $7';

// Every write takes the user's next version first: the change feed's order.
const bumped = 'with bumped as materialized (select tasks_take_versions($1, 1) as version)';


/** $1 is always the user; list's $2 the page size plus one; first's $2 and $3 the inbox's range of places. */
export const bareStatements = {
    list: `select ${columns} from tasks where user_id = $1 and deleted_at is null order by tasks.created_at desc, id desc limit $2`,
    get: `select ${columns} from tasks where user_id = $1 and id = $2 and deleted_at is null`,
    // A create reads the first position in the inbox, then inserts before it.
    first: `select position from tasks where user_id = $1 and deleted_at is null and ${place} >= $2::text collate "C" and ${place} < $3::text collate "C" order by ${place} limit 1`,
    create: `${bumped} insert into tasks (user_id, title, description, completed, priority, due_date, list_id, parent_id, position, version) select $1::text, $2::text, $3::text, $4::boolean, $5::text, $6::timestamptz, $8::uuid, $9::uuid, $10::text, bumped.version from bumped where ${room} returning ${columns}`,
    toggle: `${bumped} update tasks set completed = not completed, ${touched}, version = bumped.version from bumped where user_id = $1 and id = $2 and deleted_at is null returning ${columns}`
};


export type StatementName = keyof typeof bareStatements;


/** A statement as pg's query() takes it with its name: prepared on a connection the first time it runs there. */
export function prepared(name: StatementName, values: unknown[]): { name: string; text: string; values: unknown[] } {

    return { name: `bench_${name}`, text: bareStatements[name], values };
}
