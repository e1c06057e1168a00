import Boom from '@hapi/boom';

import { entityTag } from '../../common/entity-tags';
import type { Change } from '../../data/tasks';
import type { components } from '../../generated/openapi';


type Schemas = components['schemas'];


/** The 422 of a `since` that is no cursor of this user's: the same shape as the validation's own. */
export function foreignCursor(): Boom.Boom {

    return Boom.badData('Validation failed', {
        issues: [{ loc: ['query', 'since'], msg: 'since is not a cursor this service issued to this user; sync from the start without it', type: 'cursor.foreign' }]
    });
}


/** A change as the feed and the stream write it. */
export function changeBody(change: Change): Schemas['Change'] {

    if (change.op === 'upsert') {
        return { type: 'task', op: 'upsert', task: change.task, etag: `"${entityTag(change.task)}"` };
    }

    return { type: 'task', op: 'delete', id: change.id, deleted_at: change.deleted_at };
}
