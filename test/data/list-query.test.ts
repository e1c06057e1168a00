import test from 'ava';

import type { SortOrder, TaskSort } from '../../src/common/tasks';
import type { TaskListOptions } from '../../src/data/tasks';
import { buildListStatement } from '../../src/data/tasks';
import { listStatement } from '../../src/data/tasks/list-query';


const internals = {
    sorts: ['created_at', 'updated_at', 'due_date', 'priority', 'title', 'position'] as TaskSort[],
    orders: ['asc', 'desc', undefined] as (SortOrder | undefined)[],

    // Each filter's presence, with a value it can have.
    filters: [
        { completed: true },
        { priorities: ['high'] },
        { dueBefore: '2026-12-01T00:00:00.000Z' },
        { dueAfter: '2026-01-01T00:00:00.000Z' },
        { overdue: true },
        { search: 'milk' },
        { after: { key: '2026-06-01T00:00:00.000000Z', id: '00000000-0000-4000-8000-000000000001' } },
        { listId: null },
        { parentId: null }
    ] as Partial<TaskListOptions>[]
};


test('every shape of list (sort, order, filters present) finds the statement built for it, and no other shape\'s', (t) => {

    const names = new Map<string, string>();
    for (const sort of [undefined, ...internals.sorts]) {
        for (const order of internals.orders) {
            for (let present = 0; present < 1 << internals.filters.length; ++present) {
                const options: TaskListOptions = { limit: 20, ...(sort ? { sort } : {}), ...(order ? { order } : {}) };
                internals.filters.forEach((filter, i) => present & (1 << i) && Object.assign(options, filter));

                const found = listStatement(options);
                const built = buildListStatement(options);
                t.is(found.statement.name, built.statement.name);
                t.is(found.statement.text, built.statement.text);
                t.is(found.strip, built.strip);

                // The same shape (a sort or order left out is its default) has one statement; any other, another.
                const shape = JSON.stringify([sort ?? 'created_at', order ?? 'desc', present]);
                const earlier = names.get(found.statement.name);
                t.true(earlier === undefined || earlier === shape, `${found.statement.name}: ${earlier} and ${shape}`);
                names.set(found.statement.name, shape);
            }
        }
    }

    t.is(names.size, internals.sorts.length * 2 * (1 << internals.filters.length));
});
