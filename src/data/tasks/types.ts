import type { components } from '../../generated/openapi';


export type TaskStats = components['schemas']['TaskStats'];
