import { createTestDatabase } from './database';
import { taskStore } from '../../src/data/tasks';
import { parseTaskLimits } from '../../src/config/parse';

(async () => {
    const database = await createTestDatabase();
    const store = taskStore(database.db, parseTaskLimits({}));
    const t = await store.createTaskForUser('u1', { title: 'a', description: null, completed: false, priority: 'medium', due_date: null }) as any;
    const c = await store.createTaskForUser('u1', { title: 'child', description: null, completed: false, priority: 'medium', due_date: null, parent_id: t.id }) as any;
    console.log(t.position, c);
    console.log(await store.deleteTaskForUser('u1', t.id));
    try { console.log(await store.restoreTaskForUser('u1', t.id)); } catch (e) { console.log('ERR', e); }
    console.log(await store.listTasksForUser('u1', { limit: 10, sort: 'position', order: 'asc' }));
    await database.destroy();
})();
