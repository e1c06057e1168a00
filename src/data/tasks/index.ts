// The task store and what its users need of it.

export type { TaskListOptions, ListStatement } from './list-query';
export { buildListStatement } from './list-query';
export type { KeyedCreate, TaskPage, TaskStore } from './store';
export { taskStore } from './store';
export type { TaskStats } from './types';
