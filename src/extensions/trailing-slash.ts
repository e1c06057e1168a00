import Boom from '@hapi/boom';
import type { Lifecycle, ReqRef, ServerRoute } from '@hapi/hapi';


const internals = {
    // Only the path is read: the host is whatever the request line names, or this.
    base: 'http://localhost',

    /**
     * Whether the request's path ends in a slash after something else, as the router read it before stripping the
     * slash: with dot segments resolved, as URL resolves them (`/api/trash/.` and `/api/trash/%2e` are
     * `/api/trash/`). hapi has parsed the same request line already, so it parses.
     */
    endsInSlash(url: string | undefined): boolean {

        const path = new URL(url ?? '/', internals.base).pathname;
        return path.length > 1 && path.endsWith('/');
    },

    refuseTrailingSlash: ((request, h) => {

        if (internals.endsInSlash(request.raw.req.url)) {
            throw Boom.notFound();
        }

        return h.continue;
    }) satisfies Lifecycle.Method
};


/**
 * The router strips a trailing slash, so that `GET /api/tasks/` lists the tasks and `POST /api/tasks/` creates one.
 * A DELETE is the exception: there a trailing slash is what a client sends when it builds `/api/trash/{id}` or
 * `/api/tasks/{id}` from an empty id, and stripped it would reach the collection's own DELETE instead: the whole
 * trash removed for good, or the completed tasks cleared. The DELETE route given answers such a request 404, as a
 * path with no route does, before it is authenticated or counted, and changes nothing. Only the DELETE routes carry
 * the check, so that no other request pays for it.
 */
export function refusingTrailingSlash<Refs extends ReqRef>(route: ServerRoute<Refs>): ServerRoute<Refs> {

    return {
        ...route,
        options: {
            ...route.options,
            ext: { onPreAuth: { method: internals.refuseTrailingSlash } }
        }
    };
}
