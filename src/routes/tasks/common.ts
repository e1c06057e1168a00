import Boom from '@hapi/boom';
import type { ReqRef, Request, RouteOptions } from '@hapi/hapi';

import type { Task } from '../../data/tasks';
import { errorSchema, taskParamsSchema, taskSchema, validationErrorSchema } from '../../schemas/tasks';


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


export const errorStatuses = {
    401: errorSchema,
    404: errorSchema,
    422: validationErrorSchema
};


/** What every /api/tasks/{id} route shares: docs tags, the id parameter, and the documented responses. */
export const taskRouteOptions = {
    tags: ['api', 'tasks'],
    validate: {
        params: taskParamsSchema
    },
    response: {
        status: { 200: taskSchema, ...errorStatuses },
        sample: 0           // Documentation only; the contract tests check real responses.
    }
} satisfies RouteOptions;
