import type { components, operations } from '../../generated/openapi';


export type Task = components['schemas']['Task'];
export type TrashedTask = components['schemas']['TrashedTask'];
export type TaskFields = components['schemas']['TaskCreate'];
export type TaskChanges = components['schemas']['TaskPatch'];
export type TaskStats = components['schemas']['TaskStats'];
export type Priority = components['schemas']['Priority'];

type ListParameters = NonNullable<operations['listTasks']['parameters']['query']>;
export type TaskSort = NonNullable<ListParameters['sort']>;
export type SortOrder = NonNullable<ListParameters['order']>;


/**
 * Where a page starts: just after the task with this sort key and id, in the list's order. The key is the
 * task's created_at, updated_at or due_date (null for none) as the API writes them, its priority's rank, or its
 * title in lower case as the database lowers it.
 */
export interface TaskPosition {
    key: string | number | null;
    id: string;
}


/**
 * A write with a precondition: the updated_at values (as the API writes them) of the versions the client will
 * accept. The task is written only while it is one of them; `modified` says it exists and is not.
 */
export type Versions = readonly string[];
export type Conditional<T> = T | 'modified';


const internals = {
    uuidRx: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    priorityRank: { low: 1, medium: 2, high: 3 } as Record<Priority, number>
};


/** Whether a path's id can name a task at all: anything else is a task that does not exist. */
export function isTaskId(value: string): boolean {

    return internals.uuidRx.test(value);
}


/** The order of priorities, as the list sorts them (see the rank expression in list-query.ts). */
export function priorityRank(priority: Priority): number {

    return internals.priorityRank[priority];
}
