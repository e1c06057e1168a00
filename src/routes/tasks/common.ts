import Boom from '@hapi/boom';
import type { ReqRef, Request, ResponseObject, ResponseToolkit, RouteOptions } from '@hapi/hapi';

import type { Conditional, Task, Versions } from '../../common/tasks';
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
