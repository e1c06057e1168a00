import { entityTag } from '../common/entity-tags';
import type { Change } from '../data/tasks';
import type { components } from '../generated/openapi';


type Schemas = components['schemas'];


/** A change as the feed and the stream write it. */
export function changeBody(change: Change): Schemas['Change'] {

    if (change.op === 'delete') {
        return { type: change.type, op: 'delete', id: change.id, deleted_at: change.deleted_at };
    }

    if (change.type === 'list') {
        return { type: 'list', op: 'upsert', list: change.list, etag: `"${entityTag(change.list)}"` };
    }

    return { type: 'task', op: 'upsert', task: change.task, etag: `"${entityTag(change.task)}"` };
}
