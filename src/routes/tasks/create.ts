import type { ServerRoute } from '@hapi/hapi';

import type { TaskFields } from '../../data/tasks';
import { taskFieldsSchema, taskSchema } from '../../schemas/tasks';
import { errorStatuses, userIdOf } from './common';


export const createTask: ServerRoute<{ Payload: TaskFields }> = {
    method: 'POST',
    path: '/api/tasks',
    options: {
        tags: ['api', 'tasks'],
        description: 'Create a task',
        validate: {
            payload: taskFieldsSchema
        },
        response: {
            status: { 201: taskSchema, ...errorStatuses },
            sample: 0
        },
        async handler(request, h) {

            const task = await request.server.app.tasks.createTaskForUser(userIdOf(request), request.payload);
            return h.response(task).code(201).location(`/api/tasks/${task.id}`);
        }
    }
};
