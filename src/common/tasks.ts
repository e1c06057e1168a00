// Tasks as the API speaks of them: the contract's types, and the few rules on them every layer shares.

import type { components, operations } from '../generated/openapi';


export type Task = components['schemas']['Task'];
export type TaskFields = components['schemas']['TaskCreate'];
export type TaskChanges = components['schemas']['TaskPatch'];
export type Priority = components['schemas']['Priority'];

type ListParameters = NonNullable<operations['listTasks']['parameters']['query']>;
export type TaskSort = NonNullable<ListParameters['sort']>;
export type SortOrder = NonNullable<ListParameters['order']>;


/**
 * Where a task goes: a list (null: the inbox), a parent (null: the top level) and the sibling it follows (null:
 * first). Left out (undefined), the list and parent stay the task's own (or, for a new task, the parent's list).
 */
export interface Placement {
    list_id?: string | null;
    parent_id?: string | null;
    after?: string | null;
}


/**
 * Where a page starts: just after the task with this sort key and id, in the list's order. The key is the
 * task's created_at, updated_at or due_date (null for none) as the API writes them, its priority's rank, its
 * title in lower case as the database lowers it, or its place (list, parent and position as the database joins them).
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

    priorityRank: { low: 1, medium: 2, high: 3 } as Record<string, number>
};


export const taskSorts: readonly TaskSort[] = ['created_at', 'updated_at', 'due_date', 'priority', 'title', 'position'];
export const sortOrders: readonly SortOrder[] = ['asc', 'desc'];


/** Whether the text is a UUID, the only form a task id has: anything else names no task. */
export function isTaskId(value: string): boolean {

    return internals.uuidRx.test(value);
}


/** A priority as a number that sorts as urgency does: low 1, medium 2, high 3. */
export function priorityRank(priority: Priority): number {

    return internals.priorityRank[priority];
}
