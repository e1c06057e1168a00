import Boom from '@hapi/boom';
import type { ServerRoute } from '@hapi/hapi';

import type { Task, TaskFields } from '../../common/tasks';
import type { CreateTaskHeaders } from '../../schemas/tasks';
import { createTaskHeadersSchema, errorSchema, taskFieldsSchema, taskSchema } from '../../schemas/tasks';
import { validatedBy } from '../../schemas/route-validation';
import { errorStatuses, isRefusal, placementError, taskResponse, userIdOf } from './common';


const internals = {
    limitReached(max: number): Boom.Boom {

        return Boom.conflict(`Task limit reached: a user can hold at most ${max} tasks; delete some first`);
    },

    keyReused(): Boom.Boom {

        return Boom.badData('Validation failed', {
            issues: [{
                loc: ['header', 'idempotency-key'],
                msg: 'Idempotency-Key was already used with different task fields; use a new key for a different task',
                type: 'idempotency.reused'
            }]
        });
    }
};


export const createTask: ServerRoute<{ Payload: TaskFields; Headers: CreateTaskHeaders }> = {
    method: 'POST',
    path: '/api/tasks',
    options: {
        tags: ['api', 'tasks'],
        description: 'Create a task; an Idempotency-Key makes its retries safe',
        validate: {
            headers: validatedBy(createTaskHeadersSchema),
            payload: validatedBy(taskFieldsSchema)
        },
        response: {
            status: { 201: taskSchema, ...errorStatuses, 409: errorSchema },
            sample: 0
        },
        async handler(request, h) {

            const { tasks } = request.server.app;
            const { maxTasksPerUser, maxTaskDepth } = request.server.app.limits;
            const userId = userIdOf(request);
            const key = request.headers['idempotency-key'];

            let task: Task;
            let replayed = false;
            if (key === undefined) {
                const created = await tasks.createTaskForUser(userId, request.payload);
                if (created === 'limit-reached') {
                    throw internals.limitReached(maxTasksPerUser);
                }

                if (isRefusal(created)) {
                    throw placementError(created, maxTaskDepth);
                }

                task = created;
            }
            else {
                const result = await tasks.createTaskOnceForUser(userId, key, request.payload);
                switch (result.outcome) {
                    case 'limit-reached':
                        throw internals.limitReached(maxTasksPerUser);
                    case 'key-reused':
                        throw internals.keyReused();
                    case 'refused':
                        throw placementError(result.refusal, maxTaskDepth);
                    case 'key-unsettled':
                        throw Boom.conflict('Another request with this Idempotency-Key is still being settled; retry this one');
                    default:
                        task = result.task;
                        replayed = result.outcome === 'replayed';
                }
            }

            const response = taskResponse(h, task).code(201).location(`/api/tasks/${task.id}`);
            return replayed ? response.header('Idempotent-Replayed', 'true') : response;
        }
    }
};
