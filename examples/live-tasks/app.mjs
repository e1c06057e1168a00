// The page's script: the token's user's tasks, read once through the change feed and then kept in step by
// subscribeToChanges. The list is drawn from what the feed and the stream say, never from the answers to this page's
// own writes: a write shows up when its change comes back, so every open page draws the same list in the same order.
// npm run example bundles this file with todo-api/client for the browser.
import { createTodoClient, StreamCursorRefused, subscribeToChanges } from 'todo-api/client';


const internals = {
    tasks: new Map(),                   // id -> task, as the feed or the stream last gave it
    api: null,
    session: null                       // aborts the current connection's subscription
};


internals.element = (id) => {

    return document.getElementById(id);
};


internals.connect = (event) => {

    event.preventDefault();
    internals.session?.abort();
    const session = new AbortController();
    internals.session = session;

    const token = internals.element('token').value.trim();
    const options = {
        baseUrl: internals.element('api-url').value.trim().replace(/\/+$/, ''),
        // The token of the field; a frontend signed in with Better Auth asks its auth client for a fresh one here.
        getToken: () => token
    };

    internals.api = createTodoClient(options);
    internals.keepInStep(internals.api, options, session.signal).catch((err) => {

        if (!session.signal.aborted) {
            internals.status('error', `Stopped: ${err.message}. Check the API address and the token, then connect again.`);
        }
    });
};


/** A full sync through the feed, then the stream from the feed's cursor; again from the start if the cursor is refused. */
internals.keepInStep = async (api, options, signal) => {

    for (;;) {
        internals.status('syncing', 'Reading the tasks…');
        const { tasks, cursor } = await internals.fullSync(api);
        if (signal.aborted) {
            return;                                         // Connected again meanwhile, maybe as another user.
        }

        internals.tasks = tasks;
        internals.enableWrites(true);
        internals.render();

        try {
            await subscribeToChanges({
                ...options,
                since: cursor,
                signal,
                // The stream's answer, seen on its way to the client: 200 means connected, changes or not.
                fetch: async (request) => {

                    const response = await fetch(request);
                    if (response.status === 200) {
                        internals.status('live', 'Live: changes show up as they happen.');
                    }

                    return response;
                },
                onChange(change) {

                    internals.apply(change);
                    internals.render();
                },
                onRetry(err, delayMs) {

                    internals.status('retrying', `Connection lost (${err.message}): trying again in ${(delayMs / 1000).toFixed(1)} s.`);
                }
            });

            return;
        }
        catch (err) {
            if (!(err instanceof StreamCursorRefused)) {
                throw err;
            }
        }
    }
};


/** Every live task, a page of the feed at a time, into a fresh list, and the cursor to stream from. */
internals.fullSync = async (api) => {

    const tasks = new Map();
    let cursor;
    for (let more = true; more;) {
        const { data, error, response } = await api.GET('/api/changes', { params: { query: { since: cursor, limit: 1000 } } });
        if (!data) {
            throw new Error(`GET /api/changes answered ${response.status} (${error?.detail})`);
        }

        for (const change of data.changes) {
            internals.apply(change, tasks);
        }

        cursor = data.cursor;
        more = data.has_more;
    }

    return { tasks, cursor };
};


internals.apply = (change, tasks = internals.tasks) => {

    if (change.op === 'upsert') {
        tasks.set(change.task.id, change.task);
    }
    else {
        tasks.delete(change.id);
    }
};


/** The list in the API's own order (GET /api/tasks): newest first. */
internals.render = () => {

    const list = internals.element('tasks');
    const rows = [...internals.tasks.values()]
        .sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : (a.created_at < b.created_at ? 1 : -1)))
        .map((task) => {

            const row = document.createElement('li');
            row.dataset.id = task.id;
            row.dataset.completed = String(task.completed);

            const label = document.createElement('label');
            const box = document.createElement('input');
            box.type = 'checkbox';
            box.checked = task.completed;
            box.className = 'complete';
            const title = document.createElement('span');
            title.className = 'title';
            title.textContent = task.title;                 // Text, never markup: titles are whatever users typed.
            label.append(box, ' ', title);

            const remove = document.createElement('button');
            remove.type = 'button';
            remove.className = 'delete';
            remove.textContent = 'Delete';
            row.append(label, remove);
            return row;
        });

    list.replaceChildren(...rows);
};


internals.add = async (event) => {

    event.preventDefault();
    internals.element('problem').textContent = '';
    const input = internals.element('title');
    const { error, response } = await internals.api.POST('/api/tasks', { body: { title: input.value } });
    if (error) {
        internals.refused('Adding', response, error);
        return;
    }

    input.value = '';
};


internals.changeRow = async (event) => {

    const row = event.target.closest('li');
    if (!row) {
        return;
    }

    internals.element('problem').textContent = '';
    const id = { params: { path: { id: row.dataset.id } } };
    if (event.type === 'change' && event.target.classList.contains('complete')) {
        // Sets rather than toggles: two pages ticking the same box leave it ticked.
        const { error, response } = await internals.api.PATCH('/api/tasks/{id}/complete', { ...id, body: { completed: event.target.checked } });
        if (error) {
            internals.refused('Completing', response, error);
            internals.render();                              // The box back as the server has it.
        }
    }

    if (event.type === 'click' && event.target.classList.contains('delete')) {
        // To the trash (GET /api/trash lists it, POST /api/trash/{id}/restore brings it back).
        const { error, response } = await internals.api.DELETE('/api/tasks/{id}', id);
        if (error && response.status !== 404) {             // 404: deleted elsewhere already.
            internals.refused('Deleting', response, error);
        }
    }
};


internals.refused = (what, response, error) => {

    const detail = Array.isArray(error.detail) ? error.detail.map((issue) => issue.msg).join('; ') : error.detail;
    internals.element('problem').textContent = `${what} failed: ${response.status} ${detail}`;
};


internals.status = (state, text) => {

    const status = internals.element('status');
    status.dataset.state = state;
    status.textContent = text;
};


internals.enableWrites = (enabled) => {

    for (const control of internals.element('add').elements) {
        control.disabled = !enabled;
    }
};


internals.element('connect').addEventListener('submit', internals.connect);
internals.element('add').addEventListener('submit', internals.add);
internals.element('tasks').addEventListener('change', internals.changeRow);
internals.element('tasks').addEventListener('click', internals.changeRow);
