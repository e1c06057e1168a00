// The list store and what its users need of it.

export type { List, ListEntry, ListStore } from './store';
export { listStore } from './store';
