import Crypto from 'node:crypto';

import { fc } from '@fast-check/ava';
import anyTest from 'ava';
import type { ExecutionContext, TestFn } from 'ava';

import type { Task } from '../../src/common/tasks';
import type { TestApi } from '../helpers/api';
import { startTestApi } from '../helpers/api';


// Lists, order and subtasks against a model. Random sequences of task creates (with a list, a parent, a sibling to
// follow), moves, deletes and restores, and list creates, moves and deletes, each step sent either alone or as two
// requests of two clients of the same user at once. After every step the user's state is read back through the API
// (GET /api/tasks?sort=position paged, GET /api/lists, GET /api/trash) and held to the invariants: no cycles, no
// task deeper than MAX_TASK_DEPTH, no live task under a parent that is not live or in another list, positions of at
// most 64 characters unique among siblings and among the lists, the listing in the order it documents. A step sent
// alone is also held to the model: its status, and the exact order of every set of siblings and of the lists after
// it (a task moved after X is right after X). A pair must come to what one of its two orders comes to (statuses,
// and where every task is: list, parent, live or trashed).
// ORGANIZE_RUNS=N for more runs, ORGANIZE_SEED=S to replay the seed a failure printed.


interface ListEntry {
    id: string;
    name: string;
    position: string;
    open_count: number;
}

interface TrashedTask extends Task {
    deleted_at: string;
}

/** The user's state as the API shows it. */
interface Snapshot {
    lists: ListEntry[];
    /** Live tasks, in the order sort=position gives. */
    tasks: Task[];
    trash: TrashedTask[];
}

/** Where a task is. */
interface Spot {
    list: string | null;
    parent: string | null;
}

/** The state the model reasons on: built from a snapshot, changed by what a request should do. */
interface Model {
    /** List ids in order. */
    lists: string[];
    live: Map<string, Spot & { position: string }>;
    /** The live tasks' ids in order, per set of siblings (list and parent). */
    order: Map<string, string[]>;
    trash: Map<string, Spot & { position: string; deletedAt: string }>;
}

/** A reference to a task or list, resolved against the state before the step. */
type Ref =
    /** One of the live tasks (or lists), one of all ever made, or (for `after`) one of the siblings where it goes. */
    | { kind: 'live' | 'any' | 'sibling'; pick: number }
    | { kind: 'deepest' }
    | { kind: 'foreign' }
    | { kind: 'fresh' };

/** A placement field: left out, null, or a reference. */
type Field = undefined | null | Ref;

type Command =
    | { op: 'create'; list: Field; parent: Field; after: Field }
    | { op: 'move'; task: Ref; list: Field; parent: Field; after: Field }
    | { op: 'delete'; task: Ref }
    | { op: 'restore'; task: Ref }
    | { op: 'create-list' }
    | { op: 'move-list'; list: Ref; after: Field }
    | { op: 'delete-list'; list: Ref };

type Step = { kind: 'alone'; command: Command } | { kind: 'pair'; commands: [Command, Command] };

/** A command made concrete: the request, and what the model needs to know about it. */
interface Resolved {
    command: Command;
    method: 'POST' | 'DELETE';
    url: string;
    payload?: Record<string, unknown>;
    /** The task or list the command acts on. */
    target: string | null;
    placement: { list_id?: string | null; parent_id?: string | null; after?: string | null };
}

/** What the model says a request comes to. */
interface Outcome {
    status: number;
    /** The field a 422 names. */
    field?: string;
}


const test = anyTest as TestFn<TestApi>;

const internals = {
    runs: Number(process.env.ORGANIZE_RUNS ?? 30),
    seed: process.env.ORGANIZE_SEED === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.ORGANIZE_SEED),
    maxDepth: 4,
    // Small pages, so that the state is read across several of them: each page goes on from the last one's cursor.
    pageSize: 7,
    maxPosition: 64,
    none: '00000000-0000-0000-0000-000000000000',

    // The statuses each kind of command got, over all runs: what the runs reached.
    statuses: new Map<string, number>(),

    // Another user's task and list: naming one is naming nothing.
    foreign: { user: `organize-other-${Crypto.randomUUID()}`, task: '', list: '' },

    group(list: string | null, parent: string | null): string {

        return `${list ?? internals.none}/${parent ?? internals.none}`;
    },

    /** A task's place as sort=position orders it: list, parent, position, compared byte-wise. */
    place(task: Pick<Task, 'list_id' | 'parent_id' | 'position'>): Buffer {

        return Buffer.from(`${internals.group(task.list_id, task.parent_id)}/${task.position}`);
    }
};


test.before(async (t) => {

    t.context = await startTestApi({ MAX_TASK_DEPTH: String(internals.maxDepth) });
    const list = await t.context.request({ method: 'POST', url: '/api/lists', as: internals.foreign.user, payload: { name: 'theirs' } });
    internals.foreign.list = (list.result as ListEntry).id;
    internals.foreign.task = (await t.context.createTask(internals.foreign.user, { list_id: internals.foreign.list })).id;
});

test.after.always(async (t) => {

    await t.context?.stop();
});


/** Every page of a listing, following X-Next-Cursor. */
async function readAll<T>(t: ExecutionContext<TestApi>, user: string, path: string): Promise<T[]> {

    const items: T[] = [];
    let cursor: string | undefined;
    do {
        const separator = path.includes('?') ? '&' : '?';
        const url = `${path}${separator}limit=${internals.pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await t.context.request({ method: 'GET', url, as: user });
        t.is(res.statusCode, 200, `GET ${url}: ${res.payload}`);
        items.push(...res.result as T[]);
        cursor = res.headers['x-next-cursor'] as string | undefined;
    } while (cursor);

    return items;
}


async function snapshot(t: ExecutionContext<TestApi>, user: string): Promise<Snapshot> {

    const lists = (await t.context.request({ method: 'GET', url: '/api/lists', as: user })).result as ListEntry[];
    const tasks = await readAll<Task>(t, user, '/api/tasks?sort=position');
    const trash = await readAll<TrashedTask>(t, user, '/api/trash');
    return { lists, tasks, trash };
}


function modelOf(state: Snapshot): Model {

    const model: Model = { lists: state.lists.map((list) => list.id), live: new Map(), order: new Map(), trash: new Map() };
    for (const task of state.tasks) {
        model.live.set(task.id, { list: task.list_id, parent: task.parent_id, position: task.position });
        const key = internals.group(task.list_id, task.parent_id);
        model.order.set(key, [...model.order.get(key) ?? [], task.id]);
    }

    for (const task of state.trash) {
        model.trash.set(task.id, { list: task.list_id, parent: task.parent_id, position: task.position, deletedAt: task.deleted_at });
    }

    return model;
}


function copyModel(model: Model): Model {

    return {
        lists: [...model.lists],
        live: new Map([...model.live].map(([id, spot]) => [id, { ...spot }])),
        order: new Map([...model.order].map(([key, ids]) => [key, [...ids]])),
        trash: new Map([...model.trash].map(([id, spot]) => [id, { ...spot }]))
    };
}


/** The invariants every state must keep, whatever ran concurrently before it. */
function checkInvariants(t: ExecutionContext<TestApi>, state: Snapshot, context: string): void {

    const live = new Map(state.tasks.map((task) => [task.id, task]));
    t.is(live.size, state.tasks.length, `a task listed twice: ${context}`);

    for (const [i, task] of state.tasks.entries()) {
        t.true(task.position.length >= 1 && task.position.length <= internals.maxPosition, `position ${task.position} of ${task.position.length} characters: ${context}`);
        if (i > 0) {
            t.true(Buffer.compare(internals.place(state.tasks[i - 1]), internals.place(task)) < 0, `sort=position out of order or a position shared by siblings at ${i}: ${context}`);
        }

        // No orphan: the parent is live and in the same list; no cycle, and no deeper than allowed.
        let depth = 1;
        const seen = new Set([task.id]);
        for (let at = task; at.parent_id !== null; at = live.get(at.parent_id)!) {
            const parent = live.get(at.parent_id);
            t.truthy(parent, `task ${at.id} under ${at.parent_id}, which is not live: ${context}`);
            if (!parent) {
                break;
            }

            t.is(parent.list_id, at.list_id, `task ${at.id} in another list than its parent: ${context}`);
            t.false(seen.has(parent.id), `a cycle through ${parent.id}: ${context}`);
            if (seen.has(parent.id)) {
                break;
            }

            seen.add(parent.id);
            ++depth;
        }

        t.true(depth <= internals.maxDepth, `task ${task.id} is ${depth} levels deep: ${context}`);
    }

    // The lists: in order of their positions, each unique and short enough, each counting its pending tasks.
    for (const [i, list] of state.lists.entries()) {
        t.true(list.position.length >= 1 && list.position.length <= internals.maxPosition, `list position ${list.position}: ${context}`);
        if (i > 0) {
            t.true(Buffer.compare(Buffer.from(state.lists[i - 1].position), Buffer.from(list.position)) < 0, `lists out of order or sharing a position at ${i}: ${context}`);
        }

        t.is(list.open_count, state.tasks.filter((task) => task.list_id === list.id && !task.completed).length, `open_count of ${list.id}: ${context}`);
    }

    const lists = new Set(state.lists.map((list) => list.id));
    for (const task of state.tasks) {
        t.true(task.list_id === null || lists.has(task.list_id), `task ${task.id} in a list that is gone: ${context}`);
    }

    // Nothing both live and trashed.
    for (const task of state.trash) {
        t.false(live.has(task.id), `task ${task.id} both live and trashed: ${context}`);
    }
}


/** A task's depth (1: top level) in the model. */
function depthOf(model: Model, id: string): number {

    let depth = 1;
    for (let spot = model.live.get(id)!; spot.parent !== null; spot = model.live.get(spot.parent)!) {
        ++depth;
    }

    return depth;
}


/** The live subtree under a task, itself first. */
function subtreeOf(model: Model, id: string): string[] {

    const ids = [id];
    for (let i = 0; i < ids.length; ++i) {
        ids.push(...model.order.get(internals.group(model.live.get(ids[i])!.list, ids[i])) ?? []);
    }

    return ids;
}


function heightOf(model: Model, id: string): number {

    const children = model.order.get(internals.group(model.live.get(id)!.list, id)) ?? [];
    return 1 + Math.max(0, ...children.map((child) => heightOf(model, child)));
}


function removeLive(model: Model, id: string): void {

    const spot = model.live.get(id)!;
    const key = internals.group(spot.list, spot.parent);
    model.order.set(key, model.order.get(key)!.filter((other) => other !== id));
    model.live.delete(id);
}


/** Puts a task right after `after` (null: first) among the siblings of its spot. */
function insertAfter(model: Model, id: string, spot: Spot & { position: string }, after: string | null): void {

    const key = internals.group(spot.list, spot.parent);
    const siblings = model.order.get(key) ?? [];
    siblings.splice(after === null ? 0 : siblings.indexOf(after) + 1, 0, id);
    model.order.set(key, siblings);
    model.live.set(id, spot);
}


/** Puts a task among its siblings where its position sorts. */
function insertByPosition(model: Model, id: string, spot: Spot & { position: string }): void {

    const key = internals.group(spot.list, spot.parent);
    const siblings = model.order.get(key) ?? [];
    const at = siblings.findIndex((other) => Buffer.compare(Buffer.from(model.live.get(other)!.position), Buffer.from(spot.position)) > 0);
    siblings.splice(at === -1 ? siblings.length : at, 0, id);
    model.order.set(key, siblings);
    model.live.set(id, spot);
}


function trashSubtree(model: Model, id: string, deletedAt: string): void {

    for (const each of subtreeOf(model, id).reverse()) {
        const spot = model.live.get(each)!;
        removeLive(model, each);
        model.trash.set(each, { ...spot, deletedAt });
    }
}


/**
 * Where a placement puts a task (null for a new one), as the contract says, or the refusal it comes to. `current` is
 * where the task is (the inbox's top level for a new one).
 */
function placementOf(model: Model, placement: Resolved['placement'], current: Spot, moved: string | null): Spot | Outcome {

    const otherList = placement.list_id !== undefined && placement.list_id !== current.list;
    const parent = placement.parent_id !== undefined ? placement.parent_id : otherList ? null : current.parent;
    let list = placement.list_id === undefined ? current.list : placement.list_id;

    if (parent !== null) {
        const spot = model.live.get(parent);
        if (!spot) {
            return { status: 422, field: 'parent_id' };
        }

        if (placement.list_id === undefined) {
            list = spot.list;
        }
        else if (spot.list !== list) {
            return { status: 422, field: 'parent_id' };
        }

        if (moved && subtreeOf(model, moved).includes(parent)) {
            return { status: 409 };
        }

        if (depthOf(model, parent) + (moved ? heightOf(model, moved) : 1) > internals.maxDepth) {
            return { status: 409 };
        }
    }

    if (list !== null && placement.list_id !== undefined && !model.lists.includes(list)) {
        return { status: 422, field: 'list_id' };
    }

    if (placement.after !== undefined && placement.after !== null) {
        const siblings = (model.order.get(internals.group(list, parent)) ?? []).filter((id) => id !== moved);
        if (!siblings.includes(placement.after)) {
            return { status: 422, field: 'after' };
        }
    }

    return { list, parent };
}


/**
 * What a command comes to on the model's state, and the model after it. `answer` is the response's body (the new
 * task's id and a position are only known from it).
 */
function apply(model: Model, resolved: Resolved, answer: { id?: string; position?: string } | null, deletedAt: string): Outcome {

    const { command, target, placement } = resolved;
    switch (command.op) {
        case 'create': {
            const place = placementOf(model, placement, { list: null, parent: null }, null);
            if ('status' in place) {
                return place;
            }

            if (answer?.id) {
                insertAfter(model, answer.id, { ...place, position: answer.position! }, placement.after ?? null);
            }

            return { status: 201 };
        }

        case 'move': {
            const spot = target === null ? undefined : model.live.get(target);
            if (!spot) {
                return { status: 404 };
            }

            if (placement.after === target) {
                return { status: 422, field: 'after' };
            }

            if (placement.parent_id === target) {
                return { status: 409 };
            }

            const place = placementOf(model, placement, spot, target);
            if ('status' in place) {
                return place;
            }

            const moved = subtreeOf(model, target!);
            removeLive(model, target!);
            insertAfter(model, target!, { ...place, position: answer?.position ?? spot.position }, placement.after ?? null);
            // Its subtasks go with it, to its list.
            for (const id of moved.slice(1)) {
                const below = model.live.get(id)!;
                if (below.list !== place.list) {
                    const siblings = model.order.get(internals.group(below.list, below.parent))!;
                    model.order.delete(internals.group(below.list, below.parent));
                    model.order.set(internals.group(place.list, below.parent), siblings);
                    for (const sibling of siblings) {
                        model.live.get(sibling)!.list = place.list;
                    }
                }
            }

            return { status: 200 };
        }

        case 'delete': {
            if (target === null || !model.live.has(target)) {
                return { status: 404 };
            }

            trashSubtree(model, target, deletedAt);
            return { status: 204 };
        }

        case 'restore': {
            const trashed = target === null ? undefined : model.trash.get(target);
            if (!trashed) {
                return { status: 404 };
            }

            // What was trashed with it: its subtree in the trash, deleted at the same instant.
            const restored = [target!];
            for (let i = 0; i < restored.length; ++i) {
                for (const [id, spot] of model.trash) {
                    if (spot.parent === restored[i] && spot.deletedAt === trashed.deletedAt) {
                        restored.push(id);
                    }
                }
            }

            const height = (id: string): number => 1 + Math.max(0, ...restored.filter((other) => model.trash.get(other)!.parent === id).map(height));
            const parentSpot = trashed.parent === null ? undefined : model.live.get(trashed.parent);
            const parent = parentSpot && parentSpot.list === trashed.list && depthOf(model, trashed.parent!) + height(target!) <= internals.maxDepth ? trashed.parent : null;
            const taken = (model.order.get(internals.group(trashed.list, parent)) ?? []).some((id) => model.live.get(id)!.position === trashed.position);
            const position = taken ? answer?.position ?? trashed.position : trashed.position;

            const spots = restored.map((id) => [id, model.trash.get(id)!] as const);
            for (const [id] of spots) {
                model.trash.delete(id);
            }

            if (taken) {
                insertAfter(model, target!, { list: trashed.list, parent, position }, null);
            }
            else {
                insertByPosition(model, target!, { list: trashed.list, parent, position });
            }

            for (const [id, spot] of spots.slice(1)) {
                insertByPosition(model, id, { list: spot.list, parent: spot.parent, position: spot.position });
            }

            return { status: 200 };
        }

        case 'create-list': {
            if (answer?.id) {
                model.lists.push(answer.id);
            }

            return { status: 201 };
        }

        case 'move-list': {
            if (target === null || !model.lists.includes(target)) {
                return { status: 404 };
            }

            const after = placement.after ?? null;
            if (after !== null && (after === target || !model.lists.includes(after))) {
                return { status: 422, field: 'after' };
            }

            model.lists = model.lists.filter((id) => id !== target);
            model.lists.splice(after === null ? 0 : model.lists.indexOf(after) + 1, 0, target);
            return { status: 200 };
        }

        case 'delete-list': {
            if (target === null || !model.lists.includes(target)) {
                return { status: 404 };
            }

            // Its tasks go to the trash; there, as everywhere, they are in no list any more.
            for (const [id, spot] of [...model.live]) {
                if (spot.list === target && model.live.has(id)) {
                    trashSubtree(model, id, deletedAt);
                }
            }

            for (const spot of model.trash.values()) {
                spot.list = spot.list === target ? null : spot.list;
            }

            model.lists = model.lists.filter((id) => id !== target);
            return { status: 204 };
        }
    }
}


/** Makes a command's references concrete against the state before the step. */
function resolve(command: Command, state: Snapshot, known: { tasks: string[]; lists: string[] }): Resolved {

    const model = modelOf(state);
    const deepest = [...model.live.keys()].sort((a, b) => depthOf(model, b) - depthOf(model, a))[0];
    // With none to pick from, a placement field names none (null), a target a fresh id.
    const pick = (ref: Ref, live: string[], all: string[], foreign: string, siblings: string[] = [], empty: string | null = null): string | null => {

        const among = (ids: string[], n: number) => (ids.length ? ids[n % ids.length] : empty);
        switch (ref.kind) {
            case 'live':
                return among(live, ref.pick);
            case 'any':
                return among(all, ref.pick);
            case 'sibling':
                return among(siblings.length ? siblings : live, ref.pick);
            case 'deepest':
                return deepest ?? among(all, 0) ?? empty;
            case 'foreign':
                return foreign;
            default:
                return Crypto.randomUUID();
        }
    };

    const task = (ref: Ref, siblings?: string[]) => pick(ref, [...model.live.keys()], known.tasks, internals.foreign.task, siblings);
    const list = (ref: Ref) => pick(ref, model.lists, known.lists, internals.foreign.list, model.lists);
    const field = (value: Field, of: (ref: Ref) => string | null) => (value === undefined || value === null ? value : of(value));
    const targetTask = (ref: Ref) => pick(ref, [...model.live.keys()], known.tasks, internals.foreign.task, [], Crypto.randomUUID())!;
    const targetList = (ref: Ref) => pick(ref, model.lists, known.lists, internals.foreign.list, [], Crypto.randomUUID())!;

    switch (command.op) {
        case 'create':
        case 'move': {
            const target = command.op === 'move' ? targetTask(command.task) : null;
            const placement: Resolved['placement'] = { list_id: field(command.list, list), parent_id: field(command.parent, task) };
            // A sibling to follow is one of those where the placement puts the task, when it puts it anywhere.
            const spot = target === null ? { list: null, parent: null } : model.live.get(target) ?? { list: null, parent: null };
            const place = placementOf(model, placement, spot, target !== null && model.live.has(target) ? target : null);
            const siblings = 'status' in place ? [] : (model.order.get(internals.group(place.list, place.parent)) ?? []).filter((id) => id !== target);
            placement.after = field(command.after, (ref) => task(ref, siblings));
            const body = Object.fromEntries(Object.entries(placement).filter(([, value]) => value !== undefined));
            if (command.op === 'create') {
                return { command, method: 'POST', url: '/api/tasks', payload: { title: 'A task', ...body }, target: null, placement };
            }

            return { command, method: 'POST', url: `/api/tasks/${target}/move`, payload: body, target, placement };
        }

        case 'delete': {
            const target = targetTask(command.task);
            return { command, method: 'DELETE', url: `/api/tasks/${target}`, target, placement: {} };
        }

        case 'restore': {
            // The trash's tasks, while there are some.
            const trashed = state.trash.map((each) => each.id);
            const target = command.task.kind === 'live' && trashed.length ? trashed[command.task.pick % trashed.length] : targetTask(command.task);
            return { command, method: 'POST', url: `/api/trash/${target}/restore`, target, placement: {} };
        }

        case 'create-list':
            return { command, method: 'POST', url: '/api/lists', payload: { name: 'A list' }, target: null, placement: {} };

        case 'move-list': {
            const target = targetList(command.list);
            const after = field(command.after, list);
            return { command, method: 'POST', url: `/api/lists/${target}/move`, payload: after === undefined ? {} : { after }, target, placement: { after } };
        }

        case 'delete-list': {
            const target = targetList(command.list);
            return { command, method: 'DELETE', url: `/api/lists/${target}`, target, placement: {} };
        }
    }
}


/** Each set of siblings in order, the sets by their list and parent. */
function orders(model: Model): [string, string[]][] {

    return [...model.order].filter(([, ids]) => ids.length).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}


/** Where every task is, and which are trashed: what a pair of concurrent requests is compared on. */
function structure(model: Model): string {

    const live = [...model.live].map(([id, spot]) => `${id}:${spot.list}:${spot.parent}`).sort();
    return JSON.stringify({ live, trash: [...model.trash.keys()].sort(), lists: [...model.lists].sort() });
}


function described(resolved: Resolved): string {

    return `${resolved.method} ${resolved.url} ${resolved.payload ? JSON.stringify(resolved.payload) : ''}`;
}


const ref: fc.Arbitrary<Ref> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ kind: fc.constant('live' as const), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('any' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'deepest' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'foreign' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'fresh' as const }) }
);

const field: fc.Arbitrary<Field> = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: ref }
);

// Mostly a sibling where the task goes; now and then anything else.
const afterField: fc.Arbitrary<Field> = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('sibling' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: ref }
);

const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('create' as const), list: field, parent: field, after: afterField }) },
    { weight: 8, arbitrary: fc.record({ op: fc.constant('move' as const), task: ref, list: field, parent: field, after: afterField }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), task: ref }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('restore' as const), task: ref }) },
    // Lists made, and moved, often enough that each run of the test reaches many successful list moves, which the
    // reach check below asks for.
    { weight: 4, arbitrary: fc.constant({ op: 'create-list' as const }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('move-list' as const), list: ref, after: afterField }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete-list' as const), list: ref }) }
);

const steps: fc.Arbitrary<Step[]> = fc.array(fc.oneof(
    { weight: 3, arbitrary: command.map((each) => ({ kind: 'alone' as const, command: each })) },
    { weight: 2, arbitrary: fc.tuple(command, command).map((pair) => ({ kind: 'pair' as const, commands: pair })) }
), { minLength: 8, maxLength: 30 });


/** The statuses a command may answer when another request of the user runs at the same time. */
const allowed: Record<Command['op'], number[]> = {
    'create': [201, 409, 422],
    'move': [200, 404, 409, 422],
    'delete': [204, 404],
    'restore': [200, 404],
    'create-list': [201],
    'move-list': [200, 404, 422],
    'delete-list': [204, 404]
};


async function send(t: ExecutionContext<TestApi>, user: string, resolved: Resolved) {

    const res = await t.context.request({ method: resolved.method, url: resolved.url, as: user, payload: resolved.payload });
    const counted = `${resolved.command.op} ${res.statusCode}${res.statusCode === 422 ? ` ${JSON.parse(res.payload).detail?.[0]?.loc?.[1]}` : ''}`;
    internals.statuses.set(counted, (internals.statuses.get(counted) ?? 0) + 1);
    const body = res.payload ? JSON.parse(res.payload) : null;
    if (res.statusCode < 300 && body?.id && resolved.command.op.startsWith('create')) {
        return { res, body, created: body.id as string };
    }

    return { res, body, created: null };
}


async function runSteps(t: ExecutionContext<TestApi>, plan: Step[]): Promise<boolean> {

    const user = `organize-${Crypto.randomUUID()}`;
    const known = { tasks: [] as string[], lists: [] as string[] };
    let state = await snapshot(t, user);
    const log: string[] = [];

    for (const [n, step] of plan.entries()) {
        const before = modelOf(state);
        if (step.kind === 'alone') {
            const resolved = resolve(step.command, state, known);
            const { res, body, created } = await send(t, user, resolved);
            if (created) {
                (resolved.command.op === 'create' ? known.tasks : known.lists).push(created);
            }

            const expected = copyModel(before);
            const outcome = apply(expected, resolved, res.statusCode < 300 ? body : null, 'now');
            log.push(`${n}: ${described(resolved)} -> ${res.statusCode}`);
            const context = `step ${n}\n${log.join('\n')}\n${res.payload}`;

            t.is(res.statusCode, outcome.status, `status: ${context}`);
            if (outcome.field) {
                t.deepEqual(body?.detail?.[0]?.loc, ['body', outcome.field], `the field refused: ${context}`);
            }

            state = await snapshot(t, user);
            checkInvariants(t, state, context);
            const actual = modelOf(state);
            t.deepEqual(actual.lists, expected.lists, `the lists' order: ${context}`);
            t.deepEqual(orders(actual), orders(expected), `the siblings' order: ${context}`);
            t.deepEqual([...actual.trash.keys()].sort(), [...expected.trash.keys()].sort(), `the trash: ${context}`);

            if (resolved.command.op === 'restore' && res.statusCode === 200) {
                const trashed = before.trash.get(resolved.target!)!;
                const spot = actual.live.get(resolved.target!)!;
                const taken = (before.order.get(internals.group(spot.list, spot.parent)) ?? []).some((id) => before.live.get(id)!.position === trashed.position);
                t.is(taken ? actual.order.get(internals.group(spot.list, spot.parent))![0] : spot.position, taken ? resolved.target! : trashed.position, `a restore keeps its position while it is free, else goes first: ${context}`);
            }
        }
        else {
            const current = state;
            const resolved = step.commands.map((each) => resolve(each, current, known));
            const answers = await Promise.all(resolved.map((each) => send(t, user, each)));
            for (const [i, { created }] of answers.entries()) {
                if (created) {
                    (resolved[i].command.op === 'create' ? known.tasks : known.lists).push(created);
                }
            }

            log.push(`${n}: at once: ${resolved.map((each, i) => `${described(each)} -> ${answers[i].res.statusCode}`).join(' | ')}`);
            const context = `step ${n}\n${log.join('\n')}\n${answers.map((answer) => answer.res.payload).join('\n')}`;
            for (const [i, { res }] of answers.entries()) {
                t.true(allowed[resolved[i].command.op].includes(res.statusCode), `status ${res.statusCode}: ${context}`);
            }

            state = await snapshot(t, user);
            checkInvariants(t, state, context);

            // Serializable: the pair came to what one of its orders comes to, statuses included.
            const actual = structure(modelOf(state));
            const statuses = answers.map((answer) => answer.res.statusCode);
            const serial = [[0, 1], [1, 0]].some((order) => {

                const model = copyModel(before);
                const outcomes: number[] = [];
                for (const i of order) {
                    outcomes[i] = apply(model, resolved[i], answers[i].res.statusCode < 300 ? answers[i].body : null, `pair-${n}`).status;
                }

                return outcomes.every((status, i) => status === statuses[i]) && structure(model) === actual;
            });
            t.true(serial, `no order of the two requests comes to this: ${context}`);
        }
    }

    // The filters: each set of siblings, asked for by list and parent, is exactly that set in order.
    const final = modelOf(state);
    for (const [key, ids] of final.order) {
        const [list, parent] = key.split('/');
        const listed = await readAll<Task>(t, user, `/api/tasks?sort=position&list_id=${list === internals.none ? 'inbox' : list}&parent_id=${parent === internals.none ? 'none' : parent}`);
        t.deepEqual(listed.map((task) => task.id), ids, `list_id=${list}&parent_id=${parent}: ${log.join('\n')}`);
    }

    for (const list of [null, ...final.lists]) {
        const listed = await readAll<Task>(t, user, `/api/tasks?list_id=${list ?? 'inbox'}`);
        t.deepEqual(listed.map((task) => task.id).sort(), [...final.live].filter(([, spot]) => spot.list === list).map(([id]) => id).sort(), `list_id=${list}`);
    }

    return true;
}


test.serial(`ORGANIZE_SEED=${internals.seed}: creates, moves, deletes and restores of tasks and lists, alone and two at once, keep the tree whole and the order the model's`, async (t) => {

    t.timeout(120_000);
    let failed: string | null = null;
    await fc.assert(fc.asyncProperty(steps, async (plan) => {

        // Assertions that fail inside a run are kept by ava; the run also fails so fast-check shrinks and prints it.
        const attempt = await t.try((tt) => runSteps(tt as ExecutionContext<TestApi>, plan));
        if (!attempt.passed) {
            failed = attempt.errors.map((error) => error.message).join('\n');
            attempt.discard();
            return false;
        }

        attempt.commit();
        return true;
    }), { numRuns: internals.runs, seed: internals.seed }).catch((err: Error) => {

        t.fail(`${err.message}\n${failed ?? ''}`);
    });

    // Guards the generator: the runs must reach the moves and their refusals, not only requests refused at once.
    const reached = (name: string) => [...internals.statuses].filter(([counted]) => counted.startsWith(name)).reduce((sum, [, count]) => sum + count, 0);
    t.log([...internals.statuses].sort().map(([name, count]) => `${name} ×${count}`).join(', '));
    for (const name of ['create 201', 'move 200', 'move 409', 'move 422', 'delete 204', 'restore 200', 'move-list 200', 'delete-list 204']) {
        t.true(reached(name) > 0, `no ${name} in ${internals.runs} runs`);
    }
});


/** Moves b and c after a in turn, so the gap right after a keeps halving until the keys are too long. */
async function squeeze(t: ExecutionContext<TestApi>, moves: number, move: (id: string, after: string) => Promise<{ position: string }>, order: () => Promise<{ id: string; position: string }[]>, [a, b, c]: string[]) {

    let longest = 0;
    let spread = false;
    let count = moves;
    for (let i = 0; i < moves; ++i) {
        const [moved, other] = i % 2 ? [c, b] : [b, c];
        const answer = await move(moved, a);
        t.true(answer.position.length <= internals.maxPosition, `move ${i}: a position of ${answer.position.length} characters`);

        const siblings = await order();
        t.deepEqual(siblings.map((sibling) => sibling.id), [a, moved, other], `move ${i}: right after a`);
        for (const sibling of siblings) {
            t.true(sibling.position.length <= internals.maxPosition, `move ${i}: ${sibling.position}`);
        }

        const length = Math.max(...siblings.map((sibling) => sibling.position.length));
        spread ||= length < longest;
        longest = Math.max(longest, length);
        if (spread && i % 2) {
            count = i + 1;
            break;
        }
    }

    t.true(count >= 60, `spread again after only ${count} moves`);
    t.true(spread, `the keys grew to ${longest} characters and were never spread again`);
    t.log(`${moves} moves at most: spread again after ${count} (longest key ${longest} characters)`);
}


/**
 * Gives three siblings (a list's rows, or a user's lists) long keys in order, as many moves into one gap leave them,
 * so that a few dozen moves more make them too long (from short keys it takes some 370).
 */
async function lengthen(t: ExecutionContext<TestApi>, table: 'tasks' | 'lists', user: string, ids: string[]): Promise<void> {

    const base = `a0${'x'.repeat(48)}`;
    const keys = [base, `${base}V`, `${base.slice(0, -1)}y`];
    await t.context.database.db.knex.transaction(async (trx) => {

        await trx.raw(`update ${table} set position = '~' || id::text where user_id = ? and id = any(?::uuid[])`, [user, ids]);
        for (const [i, id] of ids.entries()) {
            await trx.raw(`update ${table} set position = ? where user_id = ? and id = ?`, [keys[i], user, id]);
        }
    });
}


test.serial('many moves into the same gap make the keys too long: the siblings are spread again and every key stays within 64 characters', async (t) => {

    const user = `organize-squeeze-${Crypto.randomUUID()}`;
    const list = ((await t.context.request({ method: 'POST', url: '/api/lists', as: user, payload: { name: 'Squeezed' } })).result as ListEntry).id;
    const parent = await t.context.createTask(user, { list_id: list });
    const tasks: Task[] = [];
    for (let i = 0; i < 3; ++i) {
        tasks.push(await t.context.createTask(user, { parent_id: parent.id, after: tasks.at(-1)?.id ?? null }));
    }

    const move = async (id: string, after: string) => {

        const res = await t.context.request({ method: 'POST', url: `/api/tasks/${id}/move`, as: user, payload: { after } });
        t.is(res.statusCode, 200, res.payload);
        return res.result as Task;
    };

    // Subtasks in a list, then the inbox's top level (the range every unplaced create reads), then the lists.
    await lengthen(t, 'tasks', user, tasks.map((task) => task.id));
    await squeeze(t, 200, move, () => readAll<Task>(t, user, `/api/tasks?sort=position&list_id=${list}&parent_id=${parent.id}`), tasks.map((task) => task.id));

    const inbox: Task[] = [];
    for (let i = 0; i < 3; ++i) {
        inbox.push(await t.context.createTask(user, { after: inbox.at(-1)?.id ?? null }));
    }

    await lengthen(t, 'tasks', user, inbox.map((task) => task.id));
    await squeeze(t, 200, move, () => readAll<Task>(t, user, '/api/tasks?sort=position&list_id=inbox&parent_id=none'), inbox.map((task) => task.id));

    // A create first in the inbox after the spread lands first.
    const first = await t.context.createTask(user);
    const inboxNow = await readAll<Task>(t, user, '/api/tasks?sort=position&list_id=inbox&parent_id=none');
    t.deepEqual(inboxNow.map((task) => task.id).slice(0, 2), [first.id, inbox[0].id]);

    const lists: string[] = [];
    for (let i = 0; i < 2; ++i) {
        lists.push(((await t.context.request({ method: 'POST', url: '/api/lists', as: user, payload: { name: `List ${i}` } })).result as ListEntry).id);
    }

    await lengthen(t, 'lists', user, [list, ...lists]);
    await squeeze(t, 200, async (id, after) => {

        const res = await t.context.request({ method: 'POST', url: `/api/lists/${id}/move`, as: user, payload: { after } });
        t.is(res.statusCode, 200, res.payload);
        return res.result as ListEntry;
    }, async () => (await t.context.request({ method: 'GET', url: '/api/lists', as: user })).result as ListEntry[], [list, ...lists]);
});


test.serial('a trashed task with subtasks deleted for good answers 204 and removes its subtree (regression: it answered 404 and removed them)', async (t) => {

    const user = `organize-purge-${Crypto.randomUUID()}`;
    const parent = await t.context.createTask(user);
    const child = await t.context.createTask(user, { parent_id: parent.id });
    const grandchild = await t.context.createTask(user, { parent_id: child.id });
    t.is((await t.context.request({ method: 'DELETE', url: `/api/tasks/${parent.id}`, as: user })).statusCode, 204);
    t.deepEqual((await readAll<TrashedTask>(t, user, '/api/trash')).map((task) => task.id).sort(), [parent.id, child.id, grandchild.id].sort());

    const purged = await t.context.request({ method: 'DELETE', url: `/api/trash/${parent.id}`, as: user });
    t.is(purged.statusCode, 204, purged.payload);
    t.deepEqual(await readAll<TrashedTask>(t, user, '/api/trash'), []);
    t.deepEqual(await readAll<Task>(t, user, '/api/tasks'), []);
});
