// The requests the benchmarks send: the scenarios, the run's users' tokens in the files bench/rotate.lua reads, and one
// request of a scenario as wrk sends it, to check an answer before the load.
import Fs from 'node:fs';
import Path from 'node:path';

import { mintToken } from '../src/auth/tokens';
import type { BenchUsers, DataSet } from './database';
import { createdTaskTitle } from './database';
import type { WrkRequest } from './load';
import type { Reply, RunningServer } from './servers';
import { request } from './servers';


export type ScenarioName = 'list' | 'get' | 'create' | 'toggle';


export interface Scenario {
    name: ScenarioName;
    label: string;
    method: string;
    path: string;
    body: string | null;
    status: number;
    /** Readers list, get and toggle their tasks; creators add tasks (so the readers' lists stay as seeded). */
    as: 'readers' | 'creators';
}


/** One line per user: the token, a tab, and (for readers) the task that get and toggle ask for. */
export interface UserFiles {
    readers: string;
    creators: string;
}


export const scenarioNames: ScenarioName[] = ['list', 'get', 'create', 'toggle'];


const internals = {
    tokenTtlSec: 12 * 3600
};


/** The named scenarios, in scenarioNames' order; `listLimit` asks list for a page of that size instead of the default. */
export function scenarios(names: ScenarioName[], listLimit: number | null = null): Scenario[] {

    const all: Scenario[] = [
        listLimit === null ?
            { name: 'list', label: 'list (GET /api/tasks, 20 tasks)', method: 'GET', path: '/api/tasks', body: null, status: 200, as: 'readers' } :
            { name: 'list', label: `list (GET /api/tasks?limit=${listLimit})`, method: 'GET', path: `/api/tasks?limit=${listLimit}`, body: null, status: 200, as: 'readers' },
        { name: 'get', label: 'get (GET /api/tasks/{id})', method: 'GET', path: '/api/tasks/{id}', body: null, status: 200, as: 'readers' },
        {
            name: 'create', label: 'create (POST /api/tasks)', method: 'POST', path: '/api/tasks',
            body: JSON.stringify({ title: createdTaskTitle, priority: 'high' }), status: 201, as: 'creators'
        },
        { name: 'toggle', label: 'toggle (PATCH /api/tasks/{id}/complete)', method: 'PATCH', path: '/api/tasks/{id}/complete', body: null, status: 200, as: 'readers' }
    ];

    return all.filter((scenario) => names.includes(scenario.name));
}


export function mintTokens(secret: string, userIds: string[]): string[] {

    const config = { secret: Buffer.from(secret, 'utf8'), issuer: null, audience: null };
    return userIds.map((userId) => mintToken(config, { userId, ttlSec: internals.tokenTtlSec }).token);
}


/** The readers' and the creators' files of a data set, in dir. */
export function writeUserFiles(set: DataSet, users: BenchUsers, secret: string, dir: string): UserFiles {

    const readerTokens = mintTokens(secret, users.readers.map((reader) => reader.userId));
    const files = { readers: Path.join(dir, `${set.name}-readers.tsv`), creators: Path.join(dir, `${set.name}-creators.tsv`) };

    Fs.writeFileSync(files.readers, users.readers.map((reader, i) => `${readerTokens[i]}\t${reader.taskId}\n`).join(''));
    Fs.writeFileSync(files.creators, mintTokens(secret, users.creators).map((token) => `${token}\t\n`).join(''));
    return files;
}


/** A scenario as wrk sends it. */
export function wrkRequest(files: UserFiles, scenario: Scenario): WrkRequest {

    return {
        method: scenario.method,
        path: scenario.path,
        body: scenario.body,
        usersFile: scenario.as === 'readers' ? files.readers : files.creators
    };
}


/** A user's request of a scenario (the first user's unless told), as wrk sends it. */
export async function requestOnce(server: RunningServer, users: BenchUsers, scenario: Scenario, secret: string, user = 0): Promise<Reply> {

    const reader = users.readers[user];
    const userId = scenario.as === 'readers' ? reader.userId : users.creators[user];
    const [token] = mintTokens(secret, [userId]);
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (scenario.body !== null) {
        headers['content-type'] = 'application/json';
    }

    return await request(`${server.url}${scenario.path.replace('{id}', reader.taskId)}`, { method: scenario.method, headers, body: scenario.body ?? undefined });
}


/** Exactly the expected status first: wrk only counts 4xx and 5xx as errors. */
export async function checkStatus(server: RunningServer, users: BenchUsers, scenario: Scenario, secret: string): Promise<void> {

    const first = await requestOnce(server, users, scenario, secret);
    if (first.status !== scenario.status) {
        throw new Error(`${server.kind}: ${scenario.label} answered ${first.status}, expected ${scenario.status}: ${first.body.slice(0, 300)}`);
    }
}
