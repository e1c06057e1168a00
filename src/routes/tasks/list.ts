import type { ServerRoute } from '@hapi/hapi';

import { encodeCursor } from '../../common/cursors';
import { taskListSchema, validateTaskListQuery } from '../../schemas/tasks';
import type { TaskListQuery } from '../../schemas/tasks';
import { errorStatuses, userIdOf } from './common';


export const listTasks: ServerRoute<{ Query: TaskListQuery }> = {
    method: 'GET',
    path: '/api/tasks',
    options: {
        tags: ['api', 'tasks'],
        description: 'List the signed-in user\'s tasks: newest first, or sorted and filtered as asked',
        notes: 'When more tasks follow, X-Next-Cursor and Link (rel="next") point at the next page.',
        validate: {
            query: validateTaskListQuery
        },
        response: {
            status: { 200: taskListSchema, ...errorStatuses },
            sample: 0
        },
        async handler(request, h) {

            const { status, completed, limit, cursor, sort, order, priority, due_before, due_after, overdue, q } = request.query;
            const page = await request.server.app.tasks.listTasksForUser(userIdOf(request), {
                sort,
                order,
                completed: completed ?? (status === 'all' ? undefined : status === 'completed'),
                priorities: priority,
                dueBefore: due_before,
                dueAfter: due_after,
                overdue,
                search: q || undefined,
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
