import Joi from 'joi';

import type { components, operations } from '../generated/openapi';
import type { TaskCursor } from '../common/cursors';
import type { SortOrder, TaskSort } from '../common/tasks';
import { decodeCursor } from '../common/cursors';
import { sortOrders, taskSorts } from '../common/tasks';
import { charCount, unstorableText } from '../common/text';
import { utcInstant } from '../common/time';


type Schemas = components['schemas'];
type ListParameters = NonNullable<operations['listTasks']['parameters']['query']>;


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
    // Newest first for the times, most urgent first for priority, soonest due and A to Z for the others.
    defaultOrder: { created_at: 'desc', updated_at: 'desc', priority: 'desc', due_date: 'asc', title: 'asc', position: 'asc' } as Record<TaskSort, SortOrder>,

    // A list's id, or the inbox; a task's id, or none (the top level).
    listFilterRx: /^(inbox|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
    parentFilterRx: /^(none|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,

    printableRx: /^[\x20-\x7e]+$/
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


export function maxChars(limit: number): Joi.CustomValidator<string> {

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
    .custom((value: string, helpers) => utcInstant(value) ?? helpers.error('date.format'));
const dueDate = instant.allow(null);
/** A list, a parent or a sibling named by id; null is none (the inbox, the top level, first). */
export const idOrNone = Text.string().guid().allow(null);


export const taskFieldsSchema = Joi.object<Schemas['TaskCreate'], true>({
    title: title.required(),
    description: description.default(null),
    completed: completed.default(false),
    priority: priority.default('medium'),
    due_date: dueDate.default(null),
    list_id: idOrNone,
    parent_id: idOrNone,
    after: idOrNone
})
    .required()
    .prefs(validationPreferences)
    .label('body');


export const taskChangesSchema = Joi.object<Schemas['TaskPatch'], true>({
    title,
    description,
    completed,
    priority,
    due_date: dueDate,
    list_id: idOrNone,
    parent_id: idOrNone
})
    .required()
    .prefs(validationPreferences)
    .label('body');


// Where to put a task; no body at all puts it first where it is.
export const taskMoveSchema = Joi.object<Schemas['TaskMove'], true>({
    list_id: idOrNone,
    parent_id: idOrNone,
    after: idOrNone
})
    .allow(null)
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
    sort: Text.string().valid(...taskSorts).default('created_at'),
    order: Text.string().valid(...sortOrders),
    priority: Joi.array().items(priority).single(),
    due_before: instant,
    due_after: instant,
    overdue: Joi.boolean(),
    q: Text.string().trim().custom(maxChars(200)).allow(''),
    list_id: Text.string().pattern(internals.listFilterRx, 'list'),
    parent_id: Text.string().pattern(internals.parentFilterRx, 'parent')
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
        'cursor.order': 'cursor belongs to sort={{#sort}}&order={{#order}}; page with those, or start again without a cursor',
        'string.pattern.name': '{{#label}} must be a UUID or {{#name}} (list_id: inbox; parent_id: none)'
    })
    .prefs(validationPreferences);


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
    list_id: Joi.string().guid().allow(null),
    parent_id: Joi.string().guid().allow(null),
    position: Joi.string(),
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
