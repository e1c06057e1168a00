import { entityTag } from '../common/entity-tags';
import type { Change } from '../data/tasks';
import type { components } from '../generated/openapi';


type Schemas = components['schemas'];


/** A change as the feed and the stream write it. */
export function changeBody(change: Change): Schemas['Change'] {

    if (change.op === 'upsert') {
        return { type: 'task', op: 'upsert', task: change.task, etag: `"${entityTag(change.task)}"` };
    }

    return { type: 'task', op: 'delete', id: change.id, deleted_at: change.deleted_at };
}
