import type { ServerRoute } from '@hapi/hapi';

import { encodeCursor } from '../../common/cursors';
import { taskListQuerySchema, taskListSchema } from '../../schemas/tasks';
import type { TaskListQuery } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { errorStatuses, userIdOf } from './common';


const internals = {
    // What a list with no query at all comes to: the schema's defaults, computed once.
    emptyQuery: taskListQuerySchema.validate({}).value as TaskListQuery,

    validated: validatedBy(taskListQuerySchema),

    /**
     * The query by its joi schema, and with no query at all (a screen's first page, the most common list) by the
     * schema's defaults without running joi: 30 to 40 µs of the 400 or so of CPU such a request takes.
     */
    validateQuery(value: string | object | Buffer): Promise<TaskListQuery> {

        // hapi hands a query over as an object of the parameters sent.
        for (const _ in value as object) {
            return internals.validated(value);
        }

        return Promise.resolve({ ...internals.emptyQuery });
    }
};


export const listTasks: ServerRoute<{ Query: TaskListQuery }> = {
    method: 'GET',
    path: '/api/tasks',
    options: {
        tags: ['api', 'tasks'],
        description: 'List the signed-in user\'s tasks: newest first, or sorted and filtered as asked',
        notes: 'When more tasks follow, X-Next-Cursor and Link (rel="next") point at the next page.',
        validate: {
            query: internals.validateQuery
        },
        response: {
            status: { 200: taskListSchema, ...errorStatuses },
            sample: 0
        },
        async handler(request, h) {

            const { status, completed, limit, cursor, sort, order, priority, due_before, due_after, overdue, q, list_id, parent_id } = request.query;
            const page = await request.server.app.tasks.listTasksForUser(userIdOf(request), {
                sort,
                order,
                completed: completed ?? (status === 'all' ? undefined : status === 'completed'),
                priorities: priority,
                dueBefore: due_before,
                dueAfter: due_after,
                overdue,
                search: q || undefined,
                listId: list_id === undefined ? undefined : list_id.toLowerCase() === 'inbox' ? null : list_id.toLowerCase(),
                parentId: parent_id === undefined ? undefined : parent_id.toLowerCase() === 'none' ? null : parent_id.toLowerCase(),
                limit,
                after: cursor?.position
            });

            const response = h.response(page.tasks);
            if (page.next) {
                const next = encodeCursor({ sort, order, position: page.next });
                const query = new URLSearchParams(request.url.search);
                query.set('cursor', next);
                response.header('X-Next-Cursor', next);
                response.header('Link', `<${request.path}?${query}>; rel="next"`);
            }

            return response;
        }
    }
};
