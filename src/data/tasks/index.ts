// The task store and what its users need of it.

export type { TaskListOptions, ListStatement } from './list-query';
export { buildListStatement, listShape } from './list-query';
export type { SearchStatements } from './search';
export { buildSearchStatements } from './search';
export type { Change, ChangeRead } from './changes';
export { readChanges } from './changes';
export type { KeyedCreate } from './creates';
export type { TaskPage, TaskStore, TrashPage } from './store';
export { taskStore } from './store';
export type { TaskStats, TrashedTask } from './types';
export type { TrashPurge } from './purge';
export { purgeTrash } from './purge';
export type { PlacementRefusal } from './tree';
