import Joi from 'joi';

import type { components, operations } from '../generated/openapi';
import type { SortOrder, TaskPosition, TaskSort } from '../data/tasks';
import { isTaskId } from '../data/tasks';
import { charCount, unstorableText } from '../common/text';


type Schemas = components['schemas'];
type ListParameters = NonNullable<operations['listTasks']['parameters']['query']>;


/** A list cursor: a position, and the order it is a position in. */
export interface TaskCursor {
    sort: TaskSort;
    order: SortOrder;
    position: TaskPosition;
}


/** The list query after validation: `cursor` arrives decoded, `order` filled in from the sort. */
export type TaskListQuery = Omit<ListParameters, 'cursor'> & {
    status: NonNullable<ListParameters['status']>;
    limit: number;
    sort: TaskSort;
    order: SortOrder;
    cursor?: TaskCursor;
};


export type CreateTaskHeaders = { 'idempotency-key'?: NonNullable<operations['createTask']['parameters']['header']>['Idempotency-Key'] };
export type ClearTasksQuery = operations['clearCompletedTasks']['parameters']['query'];


const internals = {
    // The years PostgreSQL's timestamptz and the API's four-digit years share (PostgreSQL has no year 0).
    minYear: 1,
    maxYear: 9999,

    // Newest first for the times, most urgent first for priority, soonest due and A to Z for the others.
    defaultOrder: { created_at: 'desc', updated_at: 'desc', priority: 'desc', due_date: 'asc', title: 'asc' } as Record<TaskSort, SortOrder>,
    sorts: ['created_at', 'updated_at', 'due_date', 'priority', 'title'] as TaskSort[],
    orders: ['asc', 'desc'] as SortOrder[],
    // A title holds at most 200 characters; lowering can lengthen a few of them (İ becomes i̇ under ICU).
    maxTitleKeyChars: 600,

    printableRx: /^[\x20-\x7e]+$/,

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
    },

    /** The cursors of the first release, `created_at|id`, newest first: kept so that a page in hand still works. */
    decodeFirstCursor(text: string): TaskCursor | null {

        const [createdAt, id, ...rest] = text.split('|');
        if (rest.length || !id || !internals.isTimestamp(createdAt) || !isTaskId(id)) {
            return null;
        }

        return { sort: 'created_at', order: 'desc', position: { key: createdAt, id } };
    },

    isTimestamp(value: unknown): value is string {

        return typeof value === 'string' && internals.timestampRx.test(value) && internals.toUtc(value) !== null;
    },

    /** Whether a decoded cursor's key is one the sort can have produced. */
    validKey(sort: TaskSort, key: unknown): boolean {

        switch (sort) {
            case 'created_at':
            case 'updated_at':
                return internals.isTimestamp(key);
            case 'due_date':
                return key === null || internals.isTimestamp(key);
            case 'priority':
                return key === 1 || key === 2 || key === 3;
            case 'title':
                return typeof key === 'string' && unstorableText(key) === null && charCount(key) <= internals.maxTitleKeyChars;
        }
    }
};


/**
 * Joi whose every string refuses what PostgreSQL cannot store as it was sent: NUL characters and lone surrogates.
 * Request schemas build their strings from it; lengths are counted in characters with maxChars.
 *
 * The messages of the strings' own rules are the type's, not set with .messages() on a field: joi keeps those among
 * a schema's preferences, and merges (copies) a field's preferences into its parent's on every validation, present
 * field or not.
 */
export const Text = Joi.extend((joi) => ({
    type: 'string',
    base: joi.string(),
    messages: {
        'string.nul': '{{#label}} must not contain the NUL character (U+0000)',
        'string.surrogate': '{{#label}} must be valid Unicode: it holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)',
        'string.maxChars': '{{#label}} must be at most {{#limit}} characters long',
        'date.format': '{{#label}} must be an RFC 3339 date-time such as 2026-12-31T17:00:00Z',
        'cursor.invalid': '{{#label}} is not a cursor this service issued'
    },
    validate(value: string, helpers) {

        const problem = unstorableText(value);
        return problem ? { value, errors: [helpers.error(`string.${problem}`)] } : { value };
    }
})) as Joi.Root;


function maxChars(limit: number): Joi.CustomValidator<string> {

    return (value, helpers) => (charCount(value) <= limit ? value : helpers.error('string.maxChars', { limit }));
}


/**
 * How every request is validated: all the errors at once, unknown fields dropped. Part of each schema a route
 * validates with, not a route option: hapi would merge route options into each request's options, on every request.
 */
export const validationPreferences: Joi.ValidationOptions = {
    abortEarly: false,
    stripUnknown: true,                 // Unknown and read-only fields in a body change nothing.
    errors: { wrap: { label: false } }
};


const title = Text.string().trim().min(1).custom(maxChars(200));
const description = Text.string().custom(maxChars(4000)).allow('', null);
const completed = Joi.boolean();
const priority = Text.string().valid('low', 'medium', 'high');
const instant = Text.string()
    .custom((value: string, helpers) => internals.toUtc(value) ?? helpers.error('date.format'));
const dueDate = instant.allow(null);


export const taskFieldsSchema = Joi.object<Schemas['TaskCreate'], true>({
    title: title.required(),
    description: description.default(null),
    completed: completed.default(false),
    priority: priority.default('medium'),
    due_date: dueDate.default(null)
})
    .required()
    .prefs(validationPreferences)
    .label('body');


export const taskChangesSchema = Joi.object<Schemas['TaskPatch'], true>({
    title,
    description,
    completed,
    priority,
    due_date: dueDate
})
    .required()
    .prefs(validationPreferences)
    .label('body');


// No body at all toggles; hapi hands a missing body over as null.
export const taskCompletionSchema = Joi.object<Schemas['TaskCompletion'], true>({
    completed
})
    .allow(null)
    .prefs(validationPreferences)
    .label('body');


export const cursorSchema = Text.string()
    .custom((value: string, helpers) => decodeCursor(value) ?? helpers.error('cursor.invalid'));


export const taskListQuerySchema = Joi.object<TaskListQuery, true>({
    status: Text.string().valid('all', 'pending', 'completed').default('all'),
    completed: Joi.boolean(),
    limit: Joi.number().integer().min(1).max(100).default(100),
    cursor: cursorSchema,
    sort: Text.string().valid(...internals.sorts).default('created_at'),
    order: Text.string().valid(...internals.orders),
    priority: Joi.array().items(priority).single(),
    due_before: instant,
    due_after: instant,
    overdue: Joi.boolean(),
    q: Text.string().trim().custom(maxChars(200)).allow('')
})
    .custom((query: TaskListQuery, helpers) => {

        if (query.completed !== undefined &&
            query.status !== 'all' &&
            query.completed !== (query.status === 'completed')) {

            return helpers.error('query.conflict');
        }

        query.order ??= internals.defaultOrder[query.sort];
        if (query.cursor && (query.cursor.sort !== query.sort || query.cursor.order !== query.order)) {
            return helpers.error('cursor.order', { sort: query.cursor.sort, order: query.cursor.order });
        }

        return query;
    })
    .messages({
        'query.conflict': 'status and completed ask for different tasks; send one of them',
        'cursor.order': 'cursor belongs to sort={{#sort}}&order={{#order}}; page with those, or start again without a cursor'
    });


const compiledListQuery = taskListQuerySchema.prefs(validationPreferences);
const emptyListQuery = compiledListQuery.validate({}).value as TaskListQuery;


/**
 * The list query as hapi validates it: by the joi schema above, compiled once, and with no query at all (a screen's
 * first page, the most common list) the schema's defaults without running it. Throws joi's ValidationError, which
 * the route's failAction turns into the 422 like any other.
 */
export function validateTaskListQuery(value: string | object | Buffer): Promise<TaskListQuery> {

    // hapi hands a query over as an object of the parameters sent.
    for (const _ in value as object) {
        const { value: query, error } = compiledListQuery.validate(value);
        return error ? Promise.reject(error) : Promise.resolve(query);
    }

    return Promise.resolve({ ...emptyListQuery });
}


// The pattern's message is the object's (its only pattern), for the reason Text gives.
export const createTaskHeadersSchema = Joi.object<CreateTaskHeaders, true>({
    'idempotency-key': Text.string().max(255).pattern(internals.printableRx)
})
    .unknown(true)
    .prefs(validationPreferences)
    .messages({ 'string.pattern.base': '{{#label}} must be 1 to 255 printable ASCII characters' });


// Only the completed tasks, and only when asked by name: an unknown parameter is refused, never ignored, because
// ignoring it would delete more than the client meant.
export const clearTasksQuerySchema = Joi.object<ClearTasksQuery, true>({
    status: Text.string().valid('completed').required()
})
    .prefs({ ...validationPreferences, stripUnknown: false })
    .messages({ 'any.required': 'status=completed is required: only completed tasks can be cleared' });


/** Cursors are base64url JSON: [sort, order, key, id]. */
export function encodeCursor(cursor: TaskCursor): string {

    const { sort, order, position } = cursor;
    return Buffer.from(JSON.stringify([sort, order, position.key, position.id])).toString('base64url');
}


export function decodeCursor(cursor: string): TaskCursor | null {

    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!text.startsWith('[')) {
        return internals.decodeFirstCursor(text);
    }

    let parts: unknown;
    try {
        parts = JSON.parse(text);
    }
    catch {
        return null;
    }

    if (!Array.isArray(parts) || parts.length !== 4) {
        return null;
    }

    // A well-formed cursor can still name a day that does not exist, or year 0: the database would refuse it.
    const [sort, order, key, id] = parts;
    if (!internals.sorts.includes(sort) || !internals.orders.includes(order) || typeof id !== 'string' || !isTaskId(id) || !internals.validKey(sort, key)) {
        return null;
    }

    return { sort, order, position: { key, id } };
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


export const taskStatsSchema = Joi.object<Schemas['TaskStats'], true>({
    total: Joi.number().integer(),
    pending: Joi.number().integer(),
    completed: Joi.number().integer(),
    overdue: Joi.number().integer()
}).label('TaskStats');


export const clearedTasksSchema = Joi.object<Schemas['ClearedTasks'], true>({
    deleted: Joi.number().integer()
}).label('ClearedTasks');


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
