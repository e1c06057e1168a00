import { apiTimestamp } from '../../common/time';
import { utcTimestampColumn } from '../time';
import type { Task } from '../../common/tasks';


// A task's columns as the statements select them, and the row turned into the API's task.


export const taskColumns = [
    'id', 'user_id', 'title', 'description', 'completed', 'priority',
    utcTimestampColumn('due_date'), utcTimestampColumn('created_at'), utcTimestampColumn('updated_at')
].join(', ');


/** A task as the database returned it (or as to_json wrote its row), with its timestamps in the API's form. */
export function asTask<T extends Task | null | undefined>(row: T): T {

    if (row) {
        row.due_date = apiTimestamp(row.due_date);
        row.created_at = apiTimestamp(row.created_at)!;
        row.updated_at = apiTimestamp(row.updated_at)!;
    }

    return row;
}
