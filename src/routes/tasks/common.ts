import Boom from '@hapi/boom';
import type { ReqRef, Request, ResponseObject, ResponseToolkit, RouteOptions } from '@hapi/hapi';

import type { Conditional, Task, Versions } from '../../common/tasks';
import type { PlacementRefusal } from '../../data/tasks';
import { entityTag, ifMatchVersions } from '../../common/entity-tags';
import { errorSchema, taskSchema, validationErrorSchema } from '../../schemas/tasks';


/** The signed-in user: always the token's, never anything the request says. */
export function userIdOf<Refs extends ReqRef>(request: Request<Refs>): string {

    return request.auth.credentials.user!.id;
}


/** Another user's task and a missing one answer alike. */
export function taskNotFound(): Boom.Boom {

    return Boom.notFound('Task not found');
}


export function found(task: Task | null): Task {

    if (!task) {
        throw taskNotFound();
    }

    return task;
}


/** A conditional write's outcome as the task written, or the 404 or 412 it comes to. */
export function written<T>(result: Conditional<T | null | false>): T {

    if (result === 'modified') {
        throw Boom.preconditionFailed('Task was modified');
    }

    if (!result) {
        throw taskNotFound();
    }

    return result;
}


const internals = {
    refusals: {
        list_id: 'list_id must be one of your lists, or null for the inbox',
        parent_id: 'parent_id must be one of your live tasks in the same list, or null for the top level',
        after: 'after must be one of your live tasks among the siblings the task goes to, or null for first'
    },

    conflicts: {
        'own-descendant': 'A task cannot go under itself or one of its subtasks',
        'too-deep': (depth: number) => `Subtasks go at most ${depth} levels deep; this would put one deeper`
    }
};


/** Whether a store's answer is a refusal of where the task was asked to go. */
export function isRefusal(result: unknown): result is PlacementRefusal {

    return typeof result === 'object' && result !== null && ('refused' in result || 'conflict' in result);
}


/**
 * A placement the store refused as the API answers it: 422 on the field that names a list, parent or sibling the
 * user does not have there (never saying whether it exists for someone else), 409 for a cycle or the depth.
 */
export function placementError(refusal: PlacementRefusal, maxDepth: number): Boom.Boom {

    if ('refused' in refusal) {
        return Boom.badData('Validation failed', {
            issues: [{ loc: ['body', refusal.refused], msg: internals.refusals[refusal.refused], type: `placement.${refusal.refused}` }]
        });
    }

    return Boom.conflict(refusal.conflict === 'too-deep' ? internals.conflicts['too-deep'](maxDepth) : internals.conflicts['own-descendant']);
}


/** A write's outcome, its refusal thrown as the API's error. */
export function placed<T, Refs extends ReqRef>(request: Request<Refs>, result: T | PlacementRefusal): T {

    if (isRefusal(result)) {
        throw placementError(result, request.server.app.limits.maxTaskDepth);
    }

    return result;
}


/** A request header as Node hands it over: text, once repeated lines are joined. */
export function headerOf<Refs extends ReqRef>(request: Request<Refs>, name: string): string | undefined {

    return (request.headers as Record<string, string | undefined>)[name];
}


/** The versions If-Match names for this route's task (undefined: no condition). */
export function ifMatchOf<Refs extends ReqRef>(request: Request<Refs>, id: string): Versions | undefined {

    return ifMatchVersions(headerOf(request, 'if-match'), id);
}


/**
 * The ETag of a task (`tag`: when the route has made it already): the same for every content coding, since it names
 * the task's version.
 */
export function withEntityTag(response: ResponseObject, task: Pick<Task, 'id' | 'updated_at'>, tag = entityTag(task)): ResponseObject {

    return response.etag(tag, { weak: false, vary: false });
}


export function taskResponse<Refs extends ReqRef>(h: ResponseToolkit<Refs>, task: Task, tag?: string): ResponseObject {

    return withEntityTag(h.response(task), task, tag);
}


export const errorStatuses = {
    401: errorSchema,
    404: errorSchema,
    422: validationErrorSchema
};


/**
 * What every /api/tasks/{id} route shares: docs tags and the documented responses. The id is not validated: any
 * text is a task that exists or not (the data layer answers 404 for what is no UUID without asking the database).
 */
export const taskRouteOptions = {
    tags: ['api', 'tasks'],
    validate: {},
    response: {
        status: { 200: taskSchema, ...errorStatuses },
        sample: 0           // Documentation only; the contract tests check real responses.
    }
} satisfies RouteOptions;


/** The routes that write a task, which If-Match can make conditional. */
export const conditionalTaskRouteOptions = {
    ...taskRouteOptions,
    response: {
        ...taskRouteOptions.response,
        status: { ...taskRouteOptions.response.status, 412: errorSchema }
    }
} satisfies RouteOptions;


/** The writes that can also move a task, refused with 409 for a cycle or the depth. */
export const placingTaskRouteOptions = {
    ...conditionalTaskRouteOptions,
    response: {
        ...conditionalTaskRouteOptions.response,
        status: { ...conditionalTaskRouteOptions.response.status, 409: errorSchema }
    }
} satisfies RouteOptions;
