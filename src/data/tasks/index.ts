// The task store and what its users need of it.

export type { TaskListOptions, ListStatement } from './list-query';
export { buildListStatement, listShape } from './list-query';
export type { SearchStatements } from './search';
export { buildSearchStatements } from './search';
export type { KeyedCreate, TaskPage, TaskStore } from './store';
export { taskStore } from './store';
export type { TaskStats } from './types';
