import type { components } from '../../generated/openapi';


export type TrashedTask = components['schemas']['TrashedTask'];
export type TaskStats = components['schemas']['TaskStats'];
