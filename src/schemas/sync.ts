import Crypto from 'node:crypto';

import Boom from '@hapi/boom';
import Joi from 'joi';

import type { components, operations } from '../generated/openapi';
import type { Change } from '../data/tasks';
import { entityTag } from './entity-tags';
import { taskSchema, Text, validationPreferences } from './tasks';


// The trash's and the change feed's requests and answers.


type Schemas = components['schemas'];

export type TrashQuery = { limit: number; cursor?: number };
export type StreamQuery = NonNullable<operations['streamChanges']['parameters']['query']>;
export type ChangesQuery = Omit<NonNullable<operations['listChanges']['parameters']['query']>, 'limit'> & { limit: number };


const internals = {
    trashPrefix: 'trash:',
    versionRx: /^(0|[1-9]\d{0,15})$/,
    // A feed cursor: the version (8 bytes) and a check of it with its user (8 bytes), in base64url.
    feedCursorRx: /^[A-Za-z0-9_-]{22}$/,

    check(userId: string, version: bigint): Buffer {

        return Crypto.createHash('sha256').update(`${userId}\n${version}`).digest().subarray(0, 8);
    }
};


/** A trash page's cursor: where the next page starts (the version of the last task of this one). */
export function encodeTrashCursor(version: number): string {

    return Buffer.from(`${internals.trashPrefix}${version}`).toString('base64url');
}


function decodeTrashCursor(cursor: string): number | null {

    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!text.startsWith(internals.trashPrefix) || Buffer.from(text).toString('base64url') !== cursor) {
        return null;
    }

    const version = text.slice(internals.trashPrefix.length);
    return internals.versionRx.test(version) ? Number(version) : null;
}


/**
 * A feed cursor: the version the client has synced to, with a check that binds it to its user, so that a cursor
 * sent by another user is refused instead of read as a position in this user's changes.
 */
export function encodeFeedCursor(userId: string, version: number): string {

    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64BE(BigInt(version));
    internals.check(userId, BigInt(version)).copy(bytes, 8);
    return bytes.toString('base64url');
}


/** The version a feed cursor names, when it is this user's; null when it is not a cursor of this user's. */
export function decodeFeedCursor(userId: string, cursor: string): number | null {

    if (!internals.feedCursorRx.test(cursor)) {
        return null;
    }

    const bytes = Buffer.from(cursor, 'base64url');
    const version = bytes.readBigUInt64BE(0);
    if (version > BigInt(Number.MAX_SAFE_INTEGER) || !internals.check(userId, version).equals(bytes.subarray(8, 16))) {
        return null;
    }

    return Number(version);
}


/** The 422 of a `since` that is no cursor of this user's: the same shape as the validation's own. */
export function foreignCursor(loc: string[] = ['query', 'since']): Boom.Boom {

    return Boom.badData('Validation failed', {
        issues: [{ loc, msg: `${loc[loc.length - 1]} is not a cursor this service issued to this user; sync from the start without it`, type: 'cursor.foreign' }]
    });
}


export const trashQuerySchema = Joi.object<TrashQuery, true>({
    limit: Joi.number().integer().min(1).max(100).default(100),
    cursor: Text.string().custom((value: string, helpers) => decodeTrashCursor(value) ?? helpers.error('cursor.invalid'))
}).prefs(validationPreferences);


// The form only: whose cursor it is, the route checks with the user.
export const changesQuerySchema = Joi.object<ChangesQuery, true>({
    since: Text.string().pattern(internals.feedCursorRx).min(1),
    limit: Joi.number().integer().min(1).max(1000).default(100)
})
    .prefs(validationPreferences)
    .messages({ 'string.pattern.base': '{{#label}} is not a cursor this service issued' });


// The stream's: the same cursor, or none (Last-Event-ID then, or now).
export const streamQuerySchema = Joi.object<StreamQuery, true>({
    since: Text.string().pattern(internals.feedCursorRx).min(1)
})
    .prefs(validationPreferences)
    .messages({ 'string.pattern.base': '{{#label}} is not a cursor this service issued' });


/** A change as the feed and the stream write it. */
export function changeBody(change: Change): Schemas['Change'] {

    if (change.op === 'upsert') {
        return { type: 'task', op: 'upsert', task: change.task, etag: `"${entityTag(change.task)}"` };
    }

    return { type: 'task', op: 'delete', id: change.id, deleted_at: change.deleted_at };
}


export const trashedTaskSchema = (taskSchema as Joi.ObjectSchema).keys({
    deleted_at: Joi.string().isoDate()
}).label('TrashedTask');


export const trashListSchema = Joi.array().items(trashedTaskSchema).label('TrashList');


const taskUpsertSchema = Joi.object<Schemas['TaskUpsert'], true>({
    type: Joi.string().valid('task'),
    op: Joi.string().valid('upsert'),
    task: taskSchema,
    etag: Joi.string()
}).label('TaskUpsert');

const taskDeleteSchema = Joi.object<Schemas['TaskDelete'], true>({
    type: Joi.string().valid('task'),
    op: Joi.string().valid('delete'),
    id: Joi.string().guid(),
    deleted_at: Joi.string().isoDate()
}).label('TaskDelete');


export const changePageSchema = Joi.object<Schemas['ChangePage'], true>({
    changes: Joi.array().items(Joi.alternatives(taskUpsertSchema, taskDeleteSchema)),
    cursor: Joi.string(),
    has_more: Joi.boolean()
}).label('ChangePage');
