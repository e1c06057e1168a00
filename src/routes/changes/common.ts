import Boom from '@hapi/boom';


/** The 422 of a `since` that is no cursor of this user's: the same shape as the validation's own. */
export function foreignCursor(loc: string[] = ['query', 'since']): Boom.Boom {

    return Boom.badData('Validation failed', {
        issues: [{ loc, msg: `${loc[loc.length - 1]} is not a cursor this service issued to this user; sync from the start without it`, type: 'cursor.foreign' }]
    });
}
