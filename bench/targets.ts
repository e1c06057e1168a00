// What every step of an `npm run bench` run shares: its settings, the servers it compares, and each data set's users,
// token files and figures.
import Crypto from 'node:crypto';
import Path from 'node:path';

import type { BenchUsers, DataSet } from './database';
import { benchUsers, databaseUrl, prepareDataSet, removeCreatedTasks, withDatabase } from './database';
import type { LoadSettings, Measurement } from './load';
import type { Options } from './options';
import type { Scenario, ScenarioName, UserFiles } from './scenarios';
import { writeUserFiles } from './scenarios';
import type { ServerKind, ServerSettings } from './servers';


/** What wrk measured of one scenario on one server, and the most memory the server's processes held meanwhile. */
export interface Figure extends Measurement {
    peakRssBytes: number;
}


/** One data set's files and the servers' figures, by scenario and round. */
export interface Target {
    set: DataSet;
    users: BenchUsers;
    files: UserFiles;
    figures: Record<ServerKind, Map<ScenarioName, Figure[]>>;
}


export interface Run {
    options: Options;
    scenarios: Scenario[];
    /** The default setup: each server and the load generator on a core of their own; else (--workers) nothing pinned. */
    pinned: boolean;
    secret: string;
    dir: string;
    load: LoadSettings;
}


/** The servers of every round, in the order of the first: the practical limit, the framework's floor, the service. */
export const serverKinds: ServerKind[] = ['bare', 'floor', 'service'];


/** Where the servers and the load generator go in the default run: one core each (PostgreSQL is left unpinned). */
export const placement = { serverCpu: '0', loadCpu: '1' };


/** The data set seeded (or found as the seed left it), its run's users, and their token files in dir. */
export async function makeTarget(postgres: string, set: DataSet, secret: string, dir: string): Promise<Target> {

    await prepareDataSet(postgres, set);
    const users = await benchUsers(postgres, set);
    const files = writeUserFiles(set, users, secret, dir);
    const figures = { bare: new Map(), floor: new Map(), service: new Map() };
    return { set, users, files, figures };
}


export function serverSettings(run: Run, set: DataSet, kind: ServerKind, pinned: boolean): ServerSettings {

    return {
        databaseUrl: databaseUrl(run.options.postgres, set.name),
        secret: run.secret,
        cpus: pinned ? placement.serverCpu : null,
        workers: run.options.workers,
        logFile: Path.join(run.dir, `${kind}-${Crypto.randomUUID()}.log`)
    };
}


/** Takes the create scenario's rows out again. */
export function removeCreated(run: Run, target: Target): Promise<number> {

    return withDatabase(databaseUrl(run.options.postgres, target.set.name), (db) => removeCreatedTasks(db, target.users.creators));
}
