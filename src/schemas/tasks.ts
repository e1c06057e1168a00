import Joi from 'joi';

import type { components, operations } from '../generated/openapi';
import type { TaskPosition } from '../data/tasks';
import { isTaskId } from '../data/tasks';
import { charCount, unstorableText } from '../data/text';


type Schemas = components['schemas'];

/** The list query after validation: `cursor` arrives decoded. */
export type TaskListQuery = Omit<NonNullable<operations['listTasks']['parameters']['query']>, 'cursor'> & {
    status: NonNullable<NonNullable<operations['listTasks']['parameters']['query']>['status']>;
    limit: number;
    cursor?: TaskPosition;
};


const internals = {
    // The years PostgreSQL's timestamptz and the API's four-digit years share (PostgreSQL has no year 0).
    minYear: 1,
    maxYear: 9999,

    // RFC 3339 date-time; an offset-less date-time or a bare date is read as UTC, as the frontend's form inputs send them.
    dateTimeRx: /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?)?$/,
    timestampRx: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/,

    toUtc(value: string): string | null {

        const match = internals.dateTimeRx.exec(value);
        if (!match) {
            return null;
        }

        const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', offset = 'Z'] = match;
        const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset.toUpperCase()}`);
        if (Number.isNaN(date.getTime())) {
            return null;
        }

        // Date rolls 02-30 over into March; a calendar date that does not exist is an error, not another day.
        const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
        if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day) || Number(hour) > 23) {
            return null;
        }

        // An offset can carry 0001-01-01 into year 0, or 9999-12-31 into year 10000, once in UTC.
        const utcYear = date.getUTCFullYear();
        if (utcYear < internals.minYear || utcYear > internals.maxYear) {
            return null;
        }

        return date.toISOString();
    }
};


/**
 * Joi whose every string refuses what PostgreSQL cannot store as it was sent: NUL characters and lone surrogates.
 * Request schemas build their strings from it; lengths are counted in characters with maxChars.
 */
const Text = Joi.extend((joi) => ({
    type: 'string',
    base: joi.string(),
    messages: {
        'string.nul': '{{#label}} must not contain the NUL character (U+0000)',
        'string.surrogate': '{{#label}} must be valid Unicode: it holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)',
        'string.maxChars': '{{#label}} must be at most {{#limit}} characters long'
    },
    validate(value: string, helpers) {

        const problem = unstorableText(value);
        return problem ? { value, errors: [helpers.error(`string.${problem}`)] } : { value };
    }
})) as Joi.Root;


function maxChars(limit: number): Joi.CustomValidator<string> {

    return (value, helpers) => (charCount(value) <= limit ? value : helpers.error('string.maxChars', { limit }));
}


const title = Text.string().trim().min(1).custom(maxChars(200));
const description = Text.string().custom(maxChars(4000)).allow('', null);
const completed = Joi.boolean();
const priority = Text.string().valid('low', 'medium', 'high');
const dueDate = Text.string()
    .allow(null)
    .custom((value: string, helpers) => internals.toUtc(value) ?? helpers.error('date.format'))
    .messages({ 'date.format': '{{#label}} must be an RFC 3339 date-time such as 2026-12-31T17:00:00Z' });


export const taskFieldsSchema = Joi.object<Schemas['TaskCreate'], true>({
    title: title.required(),
    description: description.default(null),
    completed: completed.default(false),
    priority: priority.default('medium'),
    due_date: dueDate.default(null)
})
    .required()
    .label('body');


export const taskChangesSchema = Joi.object<Schemas['TaskPatch'], true>({
    title,
    description,
    completed,
    priority,
    due_date: dueDate
})
    .required()
    .label('body');


// No body at all toggles; hapi hands a missing body over as null.
export const taskCompletionSchema = Joi.object<Schemas['TaskCompletion'], true>({
    completed
})
    .allow(null)
    .label('body');


export const taskParamsSchema = Joi.object({
    // Any string: an id that is not a UUID (a NUL character included) is simply a task that does not exist (404),
    // not a malformed request; it never reaches the database.
    id: Joi.string().required()
});


export const cursorSchema = Text.string()
    .custom((value: string, helpers) => decodeCursor(value) ?? helpers.error('cursor.invalid'))
    .messages({ 'cursor.invalid': '{{#label}} is not a cursor this service issued' });


export const taskListQuerySchema = Joi.object<TaskListQuery, true>({
    status: Text.string().valid('all', 'pending', 'completed').default('all'),
    completed: Joi.boolean(),
    limit: Joi.number().integer().min(1).max(100).default(100),
    cursor: cursorSchema
})
    .custom((query: TaskListQuery, helpers) => {

        if (query.completed !== undefined &&
            query.status !== 'all' &&
            query.completed !== (query.status === 'completed')) {

            return helpers.error('query.conflict');
        }

        return query;
    })
    .messages({ 'query.conflict': 'status and completed ask for different tasks; send one of them' });


export function encodeCursor(position: TaskPosition): string {

    return Buffer.from(`${position.created_at}|${position.id}`).toString('base64url');
}


export function decodeCursor(cursor: string): TaskPosition | null {

    const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
    // A well-formed cursor can still name a day that does not exist, or year 0: the database would refuse it.
    if (rest.length || !id || !internals.timestampRx.test(createdAt) || !internals.toUtc(createdAt) || !isTaskId(id)) {
        return null;
    }

    return { created_at: createdAt, id };
}


// Response schemas let hapi-swagger describe each route for the tests' cross-check with openapi.yaml, which every
// response is checked against.

export const taskSchema = Joi.object<Schemas['Task'], true>({
    id: Joi.string().guid(),
    user_id: Joi.string(),
    title: Joi.string(),
    description: Joi.string().allow(null),
    completed: Joi.boolean(),
    priority,
    due_date: Joi.string().isoDate().allow(null),
    created_at: Joi.string().isoDate(),
    updated_at: Joi.string().isoDate()
}).label('Task');


export const taskListSchema = Joi.array().items(taskSchema).label('TaskList');


export const errorSchema = Joi.object<Schemas['Error'], true>({
    detail: Joi.string()
}).label('Error');


export const validationErrorSchema = Joi.object<Schemas['ValidationError'], true>({
    detail: Joi.array().items(Joi.object<Schemas['ValidationIssue'], true>({
        loc: Joi.array().items(Joi.string(), Joi.number()),
        msg: Joi.string(),
        type: Joi.string()
    }).label('ValidationIssue'))
}).label('ValidationError');
