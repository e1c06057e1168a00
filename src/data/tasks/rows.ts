import { apiTimestamp } from '../../common/time';
import type { Task } from '../../common/tasks';


// A task's columns as the statements select them, and the row turned into the API's task.


export const taskColumns = taskColumnsOf(null);


/** The same columns qualified by a table's name, where a statement joins another table that has an id. */
export function taskColumnsOf(table: string | null): string {

    const column = (name: string) => (table ? `${table}.${name}` : name);
    const timestamp = (name: string) => `(${column(name)} at time zone 'UTC')::text as ${name}`;
    return [
        'id', 'user_id', 'title', 'description', 'completed', 'priority'
    ].map((name) => (table ? `${column(name)} as ${name}` : name)).concat(
        timestamp('due_date'), ...['list_id', 'parent_id', 'position'].map((name) => (table ? `${column(name)} as ${name}` : name)),
        timestamp('created_at'), timestamp('updated_at')
    ).join(', ');
}


/** The UUID that stands for "none" (the inbox, the top level) in a task's place. */
export const noneId = '00000000-0000-0000-0000-000000000000';


/**
 * A task's place among all of its user's tasks: list, parent and position joined in one text that sorts as the three
 * do. The same text as the index tasks_user_place_idx (migration 20261208090000): the planner matches it by its text.
 */
export const placeExpression = `(coalesce(list_id, '${noneId}'::uuid)::text || '/' || coalesce(parent_id, '${noneId}'::uuid)::text || '/' || position) collate "C"`;


/** A task as the database returned it (or as to_json wrote its row), with its timestamps in the API's form. */
export function asTask<T extends Task | null | undefined>(row: T): T {

    if (row) {
        row.due_date = apiTimestamp(row.due_date);
        row.created_at = apiTimestamp(row.created_at)!;
        row.updated_at = apiTimestamp(row.updated_at)!;
    }

    return row;
}
