import Boom from '@hapi/boom';
import type { ReqRef, Request, ResponseObject, ResponseToolkit, RouteOptions } from '@hapi/hapi';

import type { Conditional } from '../../common/tasks';
import type { List } from '../../data/lists';
import { ifMatchVersions } from '../../common/entity-tags';
import { listSchema } from '../../schemas/lists';
import { errorSchema, validationErrorSchema } from '../../schemas/tasks';
import { headerOf, withEntityTag } from '../tasks/common';


/** Another user's list and a missing one answer alike. */
export function listNotFound(): Boom.Boom {

    return Boom.notFound('List not found');
}


/** A list write's outcome as the list written, or the 404 or 412 it comes to. */
export function listWritten<T>(result: Conditional<T | null | false>): T {

    if (result === 'modified') {
        throw Boom.preconditionFailed('List was modified');
    }

    if (!result) {
        throw listNotFound();
    }

    return result;
}


export function listResponse<Refs extends ReqRef>(h: ResponseToolkit<Refs>, list: List, tag?: string): ResponseObject {

    return withEntityTag(h.response(list), list, tag);
}


/** The versions If-Match names for this route's list (undefined: no condition). */
export function listIfMatchOf<Refs extends ReqRef>(request: Request<Refs>, id: string): ReturnType<typeof ifMatchVersions> {

    return ifMatchVersions(headerOf(request, 'if-match'), id);
}


export const listErrorStatuses = {
    401: errorSchema,
    404: errorSchema,
    422: validationErrorSchema
};


/** What every /api/lists/{id} route shares. The id is not validated: any text is a list that exists or not. */
export const listRouteOptions = {
    tags: ['api', 'lists'],
    validate: {},
    response: {
        status: { 200: listSchema, ...listErrorStatuses, 412: errorSchema },
        sample: 0
    }
} satisfies RouteOptions;
