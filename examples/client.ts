import { createTodoClient, isValidationError, nextCursor } from 'todo-api/client';
import type { Task } from 'todo-api/client';


export async function tryTheApi(baseUrl: string, getToken: () => Promise<string | null>) {

    const api = createTodoClient({ baseUrl, getToken });

    // Create: the body is checked against TaskCreate at compile time; data is the Task as stored.
    const created = await api.POST('/api/tasks', { body: { title: 'Buy milk', priority: 'high' } });
    if (!created.data) {
        throw new Error(`create failed: ${JSON.stringify(created.error)}`);
    }

    const milk: Task = created.data;
    const location = created.response.headers.get('Location');          // /api/tasks/<id>
    await api.POST('/api/tasks', { body: { title: 'Call the plumber' } });
    await api.POST('/api/tasks', { body: { title: 'Water the plants', completed: true } });

    // List the pending ones, newest first.
    const pending = await api.GET('/api/tasks', { params: { query: { status: 'pending' } } });

    // Page through everything one task at a time, following X-Next-Cursor until the last page.
    const everything: Task[] = [];
    let cursor: string | undefined;
    do {
        const page = await api.GET('/api/tasks', { params: { query: { limit: 1, cursor } } });
        everything.push(...page.data ?? []);
        cursor = nextCursor(page.response);
    } while (cursor);

    // Change one field, toggle completion, then replace the editable fields (those left out return to defaults).
    const id = { params: { path: { id: milk.id } } };
    const patched = await api.PATCH('/api/tasks/{id}', { ...id, body: { description: 'Two litres' } });
    const toggled = await api.PATCH('/api/tasks/{id}/complete', id);
    const replaced = await api.PUT('/api/tasks/{id}', { ...id, body: { title: 'Buy oat milk' } });

    // Delete it: 204, and from then on a 404 whose error is typed {detail: string}.
    const deleted = await api.DELETE('/api/tasks/{id}', id);
    const gone = await api.GET('/api/tasks/{id}', id);
    const notFound: string | undefined = gone.error?.detail;               // "Task not found"

    // A title over 200 characters: 422, and the error narrows to the list of problems,
    // here ["body.title: title must be at most 200 characters long"].
    const refused = await api.POST('/api/tasks', { body: { title: 'x'.repeat(201) } });
    const problems = isValidationError(refused.error)
        ? refused.error.detail.map((issue) => `${issue.loc.join('.')}: ${issue.msg}`)
        : [];

    return {
        location,
        pending: pending.data?.map((task) => task.title),
        everything: everything.map((task) => task.title),
        patched: patched.data,
        toggled: toggled.data,
        replaced: replaced.data,
        deleted: deleted.response.status,
        notFound: { status: gone.response.status, detail: notFound },
        refused: { status: refused.response.status, problems }
    };
}
