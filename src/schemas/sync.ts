import Joi from 'joi';

import type { components, operations } from '../generated/openapi';
import { decodeTrashCursor, feedCursorRx } from '../common/cursors';
import { taskSchema, Text, validationPreferences } from './tasks';


// The trash's and the change feed's requests and answers.


type Schemas = components['schemas'];

export type TrashQuery = { limit: number; cursor?: number };
export type StreamQuery = NonNullable<operations['streamChanges']['parameters']['query']>;
export type ChangesQuery = Omit<NonNullable<operations['listChanges']['parameters']['query']>, 'limit'> & { limit: number };


export const trashQuerySchema = Joi.object<TrashQuery, true>({
    limit: Joi.number().integer().min(1).max(100).default(100),
    cursor: Text.string().custom((value: string, helpers) => decodeTrashCursor(value) ?? helpers.error('cursor.invalid'))
}).prefs(validationPreferences);


// The form only: whose cursor it is, the route checks with the user.
export const changesQuerySchema = Joi.object<ChangesQuery, true>({
    since: Text.string().pattern(feedCursorRx).min(1),
    limit: Joi.number().integer().min(1).max(1000).default(100)
})
    .prefs(validationPreferences)
    .messages({ 'string.pattern.base': '{{#label}} is not a cursor this service issued' });


// The stream's: the same cursor, or none (Last-Event-ID then, or now).
export const streamQuerySchema = Joi.object<StreamQuery, true>({
    since: Text.string().pattern(feedCursorRx).min(1)
})
    .prefs(validationPreferences)
    .messages({ 'string.pattern.base': '{{#label}} is not a cursor this service issued' });


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
