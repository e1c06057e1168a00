import { apiTimestamp } from '../../common/time';
import type { Query } from '../query';
import { maxPositionLength, positionBetween, spreadPositions } from '../positions';
import { asTask } from './rows';
import { siblingRange, treeStatements } from './tree-statements';
import type { Placement, Task, Versions } from '../../common/tasks';


// Where tasks are: lists, parents and positions, and the writes that read before they write (creates that are
// placed, moves, and what trashes or restores a subtree). Each runs in a transaction that first takes the user's
// lock (lockUser): every write of the user's tasks and lists takes the same lock when it takes a version, so from
// then on the transaction's reads are the user's latest state and stay so until it commits. Positions are unique
// among siblings by the index tasks_user_place_idx as well; these reads make sure the writes never meet it.


/** A live task's place, and how deep it is (1: a top-level task). */
export interface PlacedTask {
    id: string;
    list_id: string | null;
    parent_id: string | null;
    position: string;
    updated_at: string;
    depth: number;
}


/** What keeps a task from going where it was asked to. */
export type PlacementRefusal =
    /** The list, parent or sibling named is not one of the user's live ones (or not a sibling there): 422 on it. */
    | { refused: 'list_id' | 'parent_id' | 'after' }
    /** The parent is the task or under it, or the task would be deeper than allowed: 409. */
    | { conflict: 'own-descendant' | 'too-deep' };


/** Where a task goes: its list and parent, and the position found for it there. */
export interface Place {
    list_id: string | null;
    parent_id: string | null;
    position: string;
}




/** Takes the user's lock for the rest of the transaction. */
export async function lockUser(query: Query, userId: string): Promise<void> {

    await query(treeStatements.lock, [userId]);
}


/** The live task's place and depth, or null. */
export async function placedTask(query: Query, userId: string, id: string): Promise<PlacedTask | null> {

    const { rows: [row] } = await query<PlacedTask>(treeStatements.task, [userId, id]);
    return row ? { ...row, depth: Number(row.depth) } : null;
}


/** Whether the versions (If-Match) name the task as it is. */
export function matches(task: Pick<PlacedTask, 'updated_at'>, versions: Versions | undefined): boolean {

    return !versions || versions.includes(apiTimestamp(task.updated_at)!);
}


/**
 * A position right after `after` among the siblings of this list and parent (`task` left out of them), spreading
 * the siblings again first when the key would be too long. Null when `after` is not one of those siblings.
 */
async function positionAfter(query: Query, userId: string, listId: string | null, parentId: string | null, after: string | null, task: string | null): Promise<string | null> {

    const [from, to] = siblingRange(listId, parentId);
    const { rows: [near] } = await query<{ anchored: boolean; before: string | null; after: string | null }>(treeStatements.neighbours, [userId, from, to, after, task]);
    if (after !== null && !near.anchored) {
        return null;
    }

    const key = positionBetween(near.before, near.after);
    if (key !== null) {
        return key;
    }

    // Too long: the siblings take short keys again, leaving a gap right after `after` for the task.
    const { rows } = await query<{ id: string }>(treeStatements.siblings, [userId, from, to, task]);
    const ids = rows.map((row) => row.id);
    const at = after === null ? 0 : ids.indexOf(after) + 1;
    const keys = spreadPositions(ids.length + 1);
    const given = keys.filter((_, i) => i !== at);
    await query(treeStatements.setAside, [userId, ids]);
    await query(treeStatements.setPositions, [userId, ids, given]);
    return keys[at];
}


/**
 * Where a task goes for a placement: the list (given, the parent's, or `current`'s), the parent and the position
 * right after `after`, checked against the user's live lists and tasks. `task` is the task moved (null for a new
 * one), with the height of its subtree.
 */
export async function findPlace(query: Query, userId: string, placement: Placement, current: Pick<Place, 'list_id' | 'parent_id'>, moved: { id: string; height: number } | null, maxDepth: number): Promise<Place | PlacementRefusal> {

    // Another list and no parent named: the top level of that list.
    const otherList = placement.list_id !== undefined && placement.list_id !== current.list_id;
    const parentId = placement.parent_id !== undefined ? placement.parent_id : otherList ? null : current.parent_id;
    let listId = placement.list_id === undefined ? current.list_id : placement.list_id;

    if (parentId !== null) {
        const parent = await placedTask(query, userId, parentId);
        if (!parent) {
            return { refused: 'parent_id' };
        }

        if (placement.list_id === undefined) {
            listId = parent.list_id;
        }
        else if (parent.list_id !== listId) {
            return { refused: 'parent_id' };
        }

        if (moved) {
            const { rows: [below] } = await query<{ holds: boolean }>(treeStatements.subtree, [userId, moved.id, parentId]);
            if (below.holds) {
                return { conflict: 'own-descendant' };
            }
        }

        if (parent.depth + (moved?.height ?? 1) > maxDepth) {
            return { conflict: 'too-deep' };
        }
    }
    else if (moved && moved.height > maxDepth) {
        return { conflict: 'too-deep' };
    }

    // A list named is checked; one taken from the parent or the task is the user's already.
    if (listId !== null && placement.list_id !== undefined) {
        const { rows: [list] } = await query<{ present: boolean }>(treeStatements.listExists, [userId, listId]);
        if (!list.present) {
            return { refused: 'list_id' };
        }
    }

    const position = await positionAfter(query, userId, listId, parentId, placement.after ?? null, moved?.id ?? null);
    if (position === null) {
        return { refused: 'after' };
    }

    return { list_id: listId, parent_id: parentId, position };
}


/** Whether a placement asks for anything (a task created or moved with none of it goes first where it is). */
export function isPlaced(placement: Placement): boolean {

    return Boolean(placement.list_id ?? placement.parent_id ?? placement.after);
}


/**
 * Moves a live task (and its subtree) as a placement says, in the caller's transaction (which holds the user's
 * lock). Null: no such task; 'modified': not a version named.
 */
export async function moveTask(query: Query, userId: string, id: string, placement: Placement, maxDepth: number, versions?: Versions): Promise<Task | PlacementRefusal | 'modified' | null> {

    const task = await placedTask(query, userId, id);
    if (!task) {
        return null;
    }

    if (!matches(task, versions)) {
        return 'modified';
    }

    const { rows: [subtree] } = await query<{ height: number }>(treeStatements.subtree, [userId, id, null]);
    if (placement.parent_id === id || placement.after === id) {
        return placement.after === id ? { refused: 'after' } : { conflict: 'own-descendant' };
    }

    const place = await findPlace(query, userId, placement, task, { id, height: Number(subtree.height) }, maxDepth);
    if (!('position' in place)) {
        return place;
    }

    const { rows: [moved] } = await query<Task>(treeStatements.place, [userId, id, place.list_id, place.parent_id, place.position]);
    if (place.list_id !== task.list_id) {
        await query(treeStatements.carry, [userId, id, place.list_id]);
    }

    return asTask(moved);
}


/** Trashes a live task and its subtree in the caller's transaction: false when there is no such task. */
export async function trashTask(query: Query, userId: string, id: string, versions?: Versions): Promise<boolean | 'modified'> {

    const task = await placedTask(query, userId, id);
    if (!task) {
        return false;
    }

    if (!matches(task, versions)) {
        return 'modified';
    }

    await query(treeStatements.trashSubtree, [userId, id]);
    return true;
}


/**
 * Restores a trashed task and what was trashed with it, in the caller's transaction. It goes back to its parent
 * while that is live and deep enough room is left, else to the top level of its list (the inbox when its list is
 * gone); to its position, unless a sibling took it meanwhile: then first.
 */
export async function restoreTask(query: Query, userId: string, id: string, limits: { retentionDays: number; maxTasks: number; maxDepth: number }): Promise<Task | 'limit-reached' | null> {

    const { rows: [trashed] } = await query<{ list_id: string | null; parent_id: string | null; position: string; parent_live: boolean; size: number; height: number }>(
        treeStatements.trashed, [userId, id, limits.retentionDays]);
    if (!trashed) {
        return null;
    }

    const { rows: [held] } = await query<{ live: number }>(treeStatements.live, [userId, limits.maxTasks]);
    if (held.live + trashed.size > limits.maxTasks) {
        return 'limit-reached';
    }

    let parentId: string | null = null;
    if (trashed.parent_id !== null && trashed.parent_live) {
        const parent = await placedTask(query, userId, trashed.parent_id);
        if (parent && parent.list_id === trashed.list_id && parent.depth + trashed.height <= limits.maxDepth) {
            parentId = parent.id;
        }
    }

    let position: string | null = trashed.position;
    const [prefix] = siblingRange(trashed.list_id, parentId);
    const { rows: [taken] } = await query<{ taken: boolean }>(treeStatements.positionTaken, [userId, `${prefix}${trashed.position}`]);
    if (taken.taken || trashed.position.length > maxPositionLength) {
        position = await positionAfter(query, userId, trashed.list_id, parentId, null, null);
    }

    const { rows: [restored] } = await query<{ task: Task }>(treeStatements.restore, [userId, id, parentId, position]);
    return asTask(restored.task);
}
