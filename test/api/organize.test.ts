import Crypto from 'node:crypto';

import anyTest from 'ava';
import type { TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { List, ListEntry } from '../../src/data/lists';
import type { components } from '../../src/generated/openapi';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


type ChangePage = components['schemas']['ChangePage'];

const test = anyTest as TestFn<TestApi>;
const newUser = () => `organize-${Crypto.randomUUID()}`;
const maxLists = 3;

test.before(async (t) => {

    t.context = await startTestApi({ MAX_LISTS_PER_USER: String(maxLists), MAX_TASK_DEPTH: '4' });
});

test.after.always(async (t) => {

    await t.context?.stop();
});


async function createList(api: TestApi, user: string, name: string): Promise<List> {

    const res = await api.request({ method: 'POST', url: '/api/lists', as: user, payload: { name } });
    if (res.statusCode !== 201) {
        throw new Error(`list create: ${res.statusCode} ${res.payload}`);
    }

    return res.result as List;
}


async function lists(api: TestApi, user: string): Promise<ListEntry[]> {

    const res = await api.request({ method: 'GET', url: '/api/lists', as: user });
    if (res.statusCode !== 200) {
        throw new Error(`lists: ${res.statusCode} ${res.payload}`);
    }

    return res.result as ListEntry[];
}


/** The user's tasks in a query's order, every page of it (limit 2, so that the cursor pages). */
async function tasks(api: TestApi, user: string, query = 'sort=position'): Promise<Task[]> {

    const all: Task[] = [];
    let url = `/api/tasks?${query}&limit=2`;
    for (;;) {
        const res = await api.request({ method: 'GET', url, as: user });
        if (res.statusCode !== 200) {
            throw new Error(`tasks: ${res.statusCode} ${res.payload}`);
        }

        all.push(...(res.result as Task[]));
        const next = res.headers['x-next-cursor'];
        if (!next) {
            return all;
        }

        url = `/api/tasks?${query}&limit=2&cursor=${String(next)}`;
    }
}


function move(api: TestApi, user: string, id: string, payload: Record<string, unknown>) {

    return api.request({ method: 'POST', url: `/api/tasks/${id}/move`, as: user, payload });
}


const titles = (list: Task[]) => list.map((task) => task.title);


test('lists: created last, named as trimmed, listed in order with their pending tasks counted; GET, PATCH and DELETE with ETags', async (t) => {

    const api = t.context;
    const user = newUser();

    const res = await api.request({ method: 'POST', url: '/api/lists', as: user, payload: { name: '  Work  ' } });
    t.is(res.statusCode, 201);
    const work = res.result as List;
    t.is(work.name, 'Work');
    t.is(res.headers.location, `/api/lists/${work.id}`);
    t.truthy(res.headers.etag);
    const home = await createList(api, user, 'Home');

    await api.createTask(user, { title: 'open', list_id: work.id });
    await api.createTask(user, { title: 'done', list_id: work.id, completed: true });
    const parent = await api.createTask(user, { title: 'parent', list_id: work.id });
    await api.createTask(user, { title: 'child', parent_id: parent.id });
    const trashed = await api.createTask(user, { title: 'trashed', list_id: work.id });
    t.is((await api.request({ method: 'DELETE', url: `/api/tasks/${trashed.id}`, as: user })).statusCode, 204);

    t.deepEqual((await lists(api, user)).map((list) => [list.name, list.open_count]), [['Work', 3], ['Home', 0]]);

    const got = await api.request({ method: 'GET', url: `/api/lists/${home.id}`, as: user });
    t.is(got.statusCode, 200);
    t.deepEqual(got.result, home);
    const etag = String(got.headers.etag);
    t.is((await api.request({ method: 'GET', url: `/api/lists/${home.id}`, as: user, headers: { 'if-none-match': etag } })).statusCode, 304);

    const renamed = await api.request({ method: 'PATCH', url: `/api/lists/${home.id}`, as: user, payload: { name: 'House' }, headers: { 'if-match': etag } });
    t.is(renamed.statusCode, 200);
    t.is((renamed.result as List).name, 'House');
    t.not(renamed.headers.etag, etag);
    const stale = await api.request({ method: 'PATCH', url: `/api/lists/${home.id}`, as: user, payload: { name: 'Again' }, headers: { 'if-match': etag } });
    t.is(stale.statusCode, 412);
    t.is((await api.request({ method: 'DELETE', url: `/api/lists/${home.id}`, as: user, headers: { 'if-match': etag } })).statusCode, 412);
    t.is((await api.request({ method: 'GET', url: `/api/lists/${home.id}`, as: user })).statusCode, 200, 'a refused delete deletes nothing');

    for (const name of ['', '   ', 'x'.repeat(101)]) {
        const bad = await api.request({ method: 'POST', url: '/api/lists', as: user, payload: { name } });
        t.is(bad.statusCode, 422, JSON.stringify(name));
        t.deepEqual((bad.result as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'name']);
    }

    t.is((await api.request({ method: 'POST', url: '/api/lists', as: user, payload: { name: '💡'.repeat(100) } })).statusCode, 201, '100 code points');
    t.is((await api.request({ method: 'POST', url: '/api/lists', as: user, payload: { name: 'one too many' } })).statusCode, 409, `at most ${maxLists} lists`);
    t.is((await lists(api, user)).length, maxLists);
});


test('another user\'s list does not exist: 404 on its routes, 422 as a task\'s list, and never listed', async (t) => {

    const api = t.context;
    const [owner, other] = [newUser(), newUser()];
    const list = await createList(api, owner, 'Private');
    const task = await api.createTask(other, { title: 'mine' });

    for (const [method, url, payload] of [
        ['GET', `/api/lists/${list.id}`, undefined], ['PATCH', `/api/lists/${list.id}`, { name: 'stolen' }],
        ['DELETE', `/api/lists/${list.id}`, undefined], ['POST', `/api/lists/${list.id}/move`, {}]
    ] as const) {
        const res = await api.request({ method, url, as: other, payload });
        t.is(res.statusCode, 404, `${method} ${url}`);
        t.deepEqual(res.result, { detail: 'List not found' });
    }

    const created = await api.request({ method: 'POST', url: '/api/tasks', as: other, payload: { title: 'in it?', list_id: list.id } });
    t.is(created.statusCode, 422);
    t.deepEqual((created.result as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'list_id']);
    t.is((await tasks(api, other)).length, 1, 'nothing created');

    for (const [method, url] of [['PATCH', `/api/tasks/${task.id}`], ['PUT', `/api/tasks/${task.id}`], ['POST', `/api/tasks/${task.id}/move`]] as const) {
        const res = await api.request({ method, url, as: other, payload: { title: 'mine', list_id: list.id } });
        t.is(res.statusCode, 422, `${method} ${url}`);
        t.deepEqual((res.result as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'list_id']);
    }

    t.is((await tasks(api, other))[0].list_id, null, 'still in the inbox');
    t.deepEqual(await lists(api, other), []);
    t.deepEqual(await tasks(api, other, `list_id=${list.id}`), []);
    t.is((await api.request({ method: 'GET', url: `/api/lists/${list.id}`, as: owner })).statusCode, 200, 'untouched');
});


test('a task\'s list: create, PUT and PATCH set it, the list query filters by it (and by the inbox), and a new task goes first', async (t) => {

    const api = t.context;
    const user = newUser();
    const work = await createList(api, user, 'Work');

    const first = await api.createTask(user, { title: 'w1', list_id: work.id });
    const second = await api.createTask(user, { title: 'w2', list_id: work.id });
    await api.createTask(user, { title: 'i1' });
    t.is(first.list_id, work.id);
    t.true(second.position < first.position, 'a new task goes first');

    t.deepEqual(titles(await tasks(api, user, `list_id=${work.id}&sort=position`)), ['w2', 'w1']);
    t.deepEqual(titles(await tasks(api, user, 'list_id=inbox')), ['i1']);
    t.deepEqual(titles(await tasks(api, user, `list_id=${work.id}`)), ['w2', 'w1'], 'newest first by default');

    const patched = await api.request({ method: 'PATCH', url: `/api/tasks/${first.id}`, as: user, payload: { list_id: null, priority: 'high' } });
    t.is(patched.statusCode, 200);
    t.like(patched.result, { list_id: null, priority: 'high' });
    t.deepEqual(titles(await tasks(api, user, 'list_id=INBOX&sort=position')), ['w1', 'i1'], 'moved first in the inbox');

    const put = await api.request({ method: 'PUT', url: `/api/tasks/${first.id}`, as: user, payload: { title: 'w1 again' } });
    t.is(put.statusCode, 200);
    t.is((put.result as Task).list_id, null, 'PUT without list_id leaves the task where it is');
    const back = await api.request({ method: 'PUT', url: `/api/tasks/${first.id}`, as: user, payload: { title: 'w1 back', list_id: work.id } });
    t.is((back.result as Task).list_id, work.id);

    for (const query of ['list_id=nope', 'list_id=', 'parent_id=inbox', 'sort=place']) {
        t.is((await api.request({ method: 'GET', url: `/api/tasks?${query}`, as: user })).statusCode, 422, query);
    }
});


test('order: after places a task right after a sibling, null first; a cursor pages sort=position; a list moves among lists', async (t) => {

    const api = t.context;
    const user = newUser();
    const c = await api.createTask(user, { title: 'c' });
    const b = await api.createTask(user, { title: 'b' });
    const a = await api.createTask(user, { title: 'a' });
    t.deepEqual(titles(await tasks(api, user)), ['a', 'b', 'c']);

    await api.createTask(user, { title: 'a2', after: a.id });
    t.deepEqual(titles(await tasks(api, user)), ['a', 'a2', 'b', 'c']);

    t.is((await move(api, user, a.id, { after: c.id })).statusCode, 200);
    t.deepEqual(titles(await tasks(api, user)), ['a2', 'b', 'c', 'a']);
    const moved = await move(api, user, c.id, { after: null });
    t.is(moved.statusCode, 200);
    t.deepEqual(titles(await tasks(api, user)), ['c', 'a2', 'b', 'a']);
    t.deepEqual(titles(await tasks(api, user, 'sort=position&order=desc')), ['a', 'b', 'a2', 'c']);

    // After itself, or a task that is not a sibling there (another user's, a subtask, a trashed one): 422.
    const child = await api.createTask(user, { title: 'child', parent_id: b.id });
    const foreign = await api.createTask(newUser(), { title: 'foreign' });
    for (const after of [a.id, child.id, foreign.id, Crypto.randomUUID()]) {
        const res = await move(api, user, a.id, { after });
        t.is(res.statusCode, 422);
        t.deepEqual((res.result as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'after']);
    }

    // Stale If-Match: 412, nothing moves.
    const stale = await api.request({ method: 'POST', url: `/api/tasks/${b.id}/move`, as: user, payload: {}, headers: { 'if-match': `"${'A'.repeat(32)}"` } });
    t.is(stale.statusCode, 412);
    t.deepEqual(titles(await tasks(api, user, 'parent_id=none&sort=position')), ['c', 'a2', 'b', 'a']);

    const [one, two, three] = [await createList(api, user, 'one'), await createList(api, user, 'two'), await createList(api, user, 'three')];
    const listMoved = await api.request({ method: 'POST', url: `/api/lists/${one.id}/move`, as: user, payload: { after: three.id } });
    t.is(listMoved.statusCode, 200);
    t.deepEqual((await lists(api, user)).map((list) => list.name), ['two', 'three', 'one']);
    t.is((await api.request({ method: 'POST', url: `/api/lists/${three.id}/move`, as: user })).statusCode, 200, 'no body: first');
    t.deepEqual((await lists(api, user)).map((list) => list.name), ['three', 'two', 'one']);
    const selfAfter = await api.request({ method: 'POST', url: `/api/lists/${two.id}/move`, as: user, payload: { after: two.id } });
    t.is(selfAfter.statusCode, 422);
});


test('concurrent moves into the same place all succeed, each right after the sibling it named, positions unique and short', async (t) => {

    const api = t.context;
    const user = newUser();
    const anchor = await api.createTask(user, { title: 'anchor' });
    const movers: Task[] = [];
    for (let i = 0; i < 12; ++i) {
        movers.push(await api.createTask(user, { title: `m${i}` }));
    }

    const answers = await Promise.all(movers.map((task) => move(api, user, task.id, { after: anchor.id })));
    t.deepEqual(answers.map((res) => res.statusCode), movers.map(() => 200));

    const order = await tasks(api, user);
    t.is(order[0].title, 'anchor');
    t.deepEqual([...titles(order.slice(1))].sort(), [...titles(movers)].sort());
    t.is(new Set(order.map((task) => task.position)).size, order.length);

    // Many moves into one gap make keys grow: they are spread again before they pass 64 characters.
    const [x, y] = movers;
    for (let i = 0; i < 80; ++i) {
        const res = await move(api, user, (i % 2 ? x : y).id, { after: anchor.id });
        t.is(res.statusCode, 200);
    }

    const after = await tasks(api, user);
    t.true(after.every((task) => task.position.length <= 64));
    t.is(new Set(after.map((task) => task.position)).size, after.length);
    t.deepEqual(titles(after.slice(0, 3)), ['anchor', 'm0', 'm1']);
});


test('subtasks: in their parent\'s list, listed by parent_id, at most MAX_TASK_DEPTH levels, never under themselves', async (t) => {

    const api = t.context;
    const user = newUser();
    const work = await createList(api, user, 'Work');
    const top = await api.createTask(user, { title: 'top', list_id: work.id });
    const level2 = await api.createTask(user, { title: 'level 2', parent_id: top.id });
    t.is(level2.list_id, work.id, 'a subtask is in its parent\'s list');
    const level3 = await api.createTask(user, { title: 'level 3', parent_id: level2.id });
    const level4 = await api.createTask(user, { title: 'level 4', parent_id: level3.id });

    const fifth = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'level 5', parent_id: level4.id } });
    t.is(fifth.statusCode, 409);
    t.regex((fifth.result as { detail: string }).detail, /4 levels/);

    const wrongList = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'x', parent_id: top.id, list_id: null } });
    t.is(wrongList.statusCode, 422, 'a parent in another list');
    t.deepEqual((wrongList.result as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'parent_id']);
    const foreign = await api.createTask(newUser(), { title: 'foreign' });
    const foreignParent = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'x', parent_id: foreign.id } });
    t.is(foreignParent.statusCode, 422);

    t.deepEqual(titles(await tasks(api, user, `parent_id=${level2.id}`)), ['level 3']);
    t.deepEqual(titles(await tasks(api, user, 'parent_id=none')), ['top']);

    // Under itself or one of its subtasks: 409. A subtree that would go too deep: 409.
    t.is((await move(api, user, top.id, { parent_id: top.id })).statusCode, 409);
    t.is((await move(api, user, top.id, { parent_id: level3.id })).statusCode, 409);
    const other = await api.createTask(user, { title: 'other', list_id: work.id });
    t.is((await move(api, user, level2.id, { parent_id: other.id })).statusCode, 200, 'three levels under a top-level task fit');
    const deeper = await api.createTask(user, { title: 'deeper', parent_id: other.id });
    t.is((await move(api, user, level2.id, { parent_id: deeper.id })).statusCode, 409, 'three levels under a level-2 task do not');
    t.is((await api.request({ method: 'PATCH', url: `/api/tasks/${level2.id}`, as: user, payload: { parent_id: level4.id } })).statusCode, 409);

    // Moved to the inbox, the subtree goes with it.
    const toInbox = await move(api, user, other.id, { list_id: null });
    t.is(toInbox.statusCode, 200);
    const inInbox = await tasks(api, user, 'list_id=inbox');
    t.deepEqual([...titles(inInbox)].sort(), ['other', 'deeper', 'level 2', 'level 3', 'level 4'].sort());
    t.true(inInbox.every((task) => task.list_id === null));
    t.deepEqual(titles(await tasks(api, user, `list_id=${work.id}`)), ['top']);

    // Completing a parent leaves its subtasks as they are.
    const done = await api.request({ method: 'PATCH', url: `/api/tasks/${other.id}/complete`, as: user, payload: { completed: true } });
    t.is(done.statusCode, 200);
    t.false((await tasks(api, user, `parent_id=${other.id}`)).some((task) => task.completed));
});


test('a subtree goes to the trash, comes back and is removed for good with its root; clearing completed tasks takes their subtasks', async (t) => {

    const api = t.context;
    const user = newUser();
    const root = await api.createTask(user, { title: 'root' });
    const child = await api.createTask(user, { title: 'child', parent_id: root.id });
    const grandchild = await api.createTask(user, { title: 'grandchild', parent_id: child.id });
    const sibling = await api.createTask(user, { title: 'sibling' });

    t.is((await api.request({ method: 'DELETE', url: `/api/tasks/${root.id}`, as: user })).statusCode, 204);
    for (const task of [root, child, grandchild]) {
        t.is((await api.request({ method: 'GET', url: `/api/tasks/${task.id}`, as: user })).statusCode, 404);
    }

    t.deepEqual(titles(await tasks(api, user)), ['sibling']);
    const restored = await api.request({ method: 'POST', url: `/api/trash/${root.id}/restore`, as: user });
    t.is(restored.statusCode, 200);
    const back = await tasks(api, user);
    t.deepEqual([...titles(back)].sort(), ['root', 'child', 'grandchild', 'sibling'].sort());
    t.is(back.find((task) => task.title === 'grandchild')!.parent_id, child.id, 'the tree as it was');

    // A subtask restored alone, its parent still in the trash, comes back at the top level.
    await api.request({ method: 'DELETE', url: `/api/tasks/${root.id}`, as: user });
    t.is((await api.request({ method: 'POST', url: `/api/trash/${child.id}/restore`, as: user })).statusCode, 200);
    const alone = await tasks(api, user, 'parent_id=none');
    t.deepEqual([...titles(alone)].sort(), ['child', 'sibling'].sort());
    t.is((await tasks(api, user, `parent_id=${child.id}`))[0].title, 'grandchild');

    // Removed for good: the root and what is under it in the trash, tombstones in the feed.
    const purge = await api.request({ method: 'DELETE', url: `/api/trash/${root.id}`, as: user });
    t.is(purge.statusCode, 204);
    const trash = await api.request({ method: 'GET', url: '/api/trash', as: user });
    t.deepEqual(trash.result, []);

    // Clear completed: a completed parent takes its pending subtask; a pending parent keeps its completed one? No:
    // only completed tasks and what is under them.
    const done = await api.createTask(user, { title: 'done', completed: true });
    await api.createTask(user, { title: 'pending under done', parent_id: done.id });
    const cleared = await api.request({ method: 'DELETE', url: '/api/tasks?status=completed', as: user });
    t.deepEqual(cleared.result, { deleted: 2 });
    t.deepEqual([...titles(await tasks(api, user))].sort(), ['child', 'grandchild', 'sibling'].sort());
    t.truthy(sibling);
});


test('deleting a list trashes its tasks; restored after, they return to the inbox; the feed tells the list\'s changes', async (t) => {

    const api = t.context;
    const user = newUser();
    const start = (await api.request({ method: 'GET', url: '/api/changes', as: user })).result as ChangePage;
    const list = await createList(api, user, 'Errands');
    const milk = await api.createTask(user, { title: 'milk', list_id: list.id });
    await api.createTask(user, { title: 'eggs', parent_id: milk.id });
    const inbox = await api.createTask(user, { title: 'inbox' });

    t.is((await api.request({ method: 'DELETE', url: `/api/lists/${list.id}`, as: user })).statusCode, 204);
    t.is((await api.request({ method: 'GET', url: `/api/lists/${list.id}`, as: user })).statusCode, 404);
    t.deepEqual(titles(await tasks(api, user)), ['inbox']);

    const feed = (await api.request({ method: 'GET', url: `/api/changes?since=${start.cursor}`, as: user })).result as ChangePage;
    const lastOf = new Map(feed.changes.map((change) => [change.op === 'upsert' ? (change.type === 'list' ? change.list.id : change.task.id) : change.id, change]));
    t.like(lastOf.get(list.id), { type: 'list', op: 'delete' });
    t.like(lastOf.get(milk.id), { type: 'task', op: 'delete' });
    t.like(lastOf.get(inbox.id), { type: 'task', op: 'upsert' });

    const restored = await api.request({ method: 'POST', url: `/api/trash/${milk.id}/restore`, as: user });
    t.is(restored.statusCode, 200);
    t.is((restored.result as Task).list_id, null);
    const back = await tasks(api, user, 'list_id=inbox');
    t.deepEqual([...titles(back)].sort(), ['inbox', 'milk', 'eggs'].sort());
    t.true(back.every((task) => task.list_id === null));

    // A full sync carries the lists too.
    const other = await createList(api, user, 'Other');
    const full = (await api.request({ method: 'GET', url: '/api/changes', as: user })).result as ChangePage;
    t.true(full.changes.some((change) => change.type === 'list' && change.op === 'upsert' && change.list.id === other.id));
});


test('a create with an Idempotency-Key is placed once: its retry answers the same task where it was put', async (t) => {

    const api = t.context;
    const user = newUser();
    const list = await createList(api, user, 'Keyed');
    const first = await api.createTask(user, { title: 'first', list_id: list.id });
    const payload = { title: 'keyed', list_id: list.id, after: first.id };
    const headers = { 'idempotency-key': Crypto.randomUUID() };

    const created = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload, headers });
    t.is(created.statusCode, 201);
    const replayed = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload, headers });
    t.is(replayed.statusCode, 201);
    t.is(replayed.headers['idempotent-replayed'], 'true');
    t.deepEqual(replayed.result, created.result);
    t.deepEqual(titles(await tasks(api, user, `list_id=${list.id}&sort=position`)), ['first', 'keyed']);

    // The same key for the same task elsewhere is another create: refused, nothing moved or created.
    const elsewhere = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'keyed' }, headers });
    t.is(elsewhere.statusCode, 422);
    t.deepEqual((elsewhere.result as { detail: { loc: string[] }[] }).detail[0].loc, ['header', 'idempotency-key']);
    t.deepEqual(titles(await tasks(api, user)), ['first', 'keyed']);

    const refused = await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { title: 'x', parent_id: Crypto.randomUUID() }, headers: { 'idempotency-key': Crypto.randomUUID() } });
    t.is(refused.statusCode, 422);
    t.deepEqual((refused.result as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'parent_id']);
});
