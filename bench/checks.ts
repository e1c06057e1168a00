// What npm run bench checks before and after it measures, so that its figures compare servers doing the same work:
// the peers send the service's statements, all three answer alike, and the service logged every response.
import Fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

import type { StatementName } from './bare-statements';
import { bareStatements } from './bare-statements';
import { serviceStatements } from './database';
import { requestOnce } from './scenarios';
import type { RunningServer, ServerKind } from './servers';
import { startServer } from './servers';
import type { Run, Target } from './targets';
import { removeCreated, serverKinds, serverSettings } from './targets';


const internals = {
    // What differs between two servers' answers to the same create or toggle: the new row's id, times and position
    // (random digits make a new task's place, so that racing creates all succeed), and which way a toggle flipped
    // (each server flips the same task in turn).
    volatile: new Set(['id', 'created_at', 'updated_at', 'completed', 'position']),

    comparable(body: Record<string, unknown>): Record<string, unknown> {

        return Object.fromEntries(Object.entries(body).filter(([key]) => !internals.volatile.has(key)));
    },

    /**
     * Every server on the same data answers alike: the same bodies for list and get, and for create and toggle the
     * same status, fields and values (but the new id and the times). Otherwise they are not doing the same work.
     */
    async sameAnswers(run: Run, target: Target, servers: Map<ServerKind, RunningServer>): Promise<void> {

        for (const scenario of run.scenarios) {
            for (const user of [0, 1, 999]) {
                const replies = [];
                for (const kind of serverKinds) {
                    replies.push({ kind, reply: await requestOnce(servers.get(kind)!, target.users, scenario, run.secret, user) });
                }

                const [first, ...others] = replies;
                const where = `${scenario.label}, user ${user}`;
                for (const { kind, reply } of replies) {
                    if (reply.status !== scenario.status) {
                        throw new Error(`${where}: ${kind} answered ${reply.status}, expected ${scenario.status}: ${reply.body.slice(0, 300)}`);
                    }
                }

                const a = JSON.parse(first.reply.body);
                for (const other of others) {
                    const b = JSON.parse(other.reply.body);
                    const differ = () => new Error(`${where}: ${first.kind} and ${other.kind} answer differently:\n${first.kind}: ${first.reply.body.slice(0, 400)}\n${other.kind}: ${other.reply.body.slice(0, 400)}`);

                    if (scenario.name === 'list' || scenario.name === 'get') {
                        if (!isDeepStrictEqual(a, b) || first.reply.headers['x-next-cursor'] !== other.reply.headers['x-next-cursor']) {
                            throw differ();
                        }

                        continue;
                    }

                    const sameKeys = isDeepStrictEqual(Object.keys(a).sort(), Object.keys(b).sort());
                    const located = scenario.name !== 'create' ||
                        (first.reply.headers.location === `/api/tasks/${a.id}` && other.reply.headers.location === `/api/tasks/${b.id}`);
                    if (!sameKeys || !located || !isDeepStrictEqual(internals.comparable(a), internals.comparable(b))) {
                        throw differ();
                    }
                }

                // Each server flipped the same task once: the answers alternate.
                if (scenario.name === 'toggle') {
                    const flips = replies.map(({ reply }) => JSON.parse(reply.body).completed);
                    if (flips.some((completed, i) => i > 0 && completed === flips[i - 1])) {
                        throw new Error(`${where}: the servers' toggles did not each flip the task: ${flips.join(', ')}`);
                    }
                }
            }
        }
    }
};


/**
 * The peers send the very statements the service's data layer sends (whitespace aside): otherwise they do different
 * work, and a change to the service's SQL would go unmeasured.
 */
export async function checkSameStatements(run: Run, target: Target): Promise<void> {

    const normal = (sql: string) => sql.replace(/\s+/g, ' ').trim();
    const sent = await serviceStatements(run.options.postgres, target.set, target.users, target.set.tasksPerUser / 2);
    for (const name of Object.keys(bareStatements) as StatementName[]) {
        if (normal(sent[name].sql) !== normal(bareStatements[name])) {
            throw new Error(`the peers' ${name} statement is not the service's: update bench/bare-statements.ts\n` +
                `service: ${normal(sent[name].sql)}\npeers:   ${normal(bareStatements[name])}`);
        }
    }
}


/** The three servers side by side, unpinned, before anything is measured. */
export async function checkSameAnswers(run: Run, target: Target): Promise<void> {

    const servers = new Map<ServerKind, RunningServer>();
    try {
        for (const kind of serverKinds) {
            servers.set(kind, await startServer(kind, serverSettings(run, target.set, kind, false)));
        }

        await internals.sameAnswers(run, target, servers);
    }
    finally {
        for (const server of servers.values()) {
            await server.stop();
            Fs.rmSync(server.logFile, { force: true });
        }

        await removeCreated(run, target);
    }
}


/**
 * The service's log must have a line per response (each carries the request's req_id): a figure reached by logging
 * less is no figure. The log is removed once counted.
 */
export function checkLog(server: RunningServer, responses: number): void {

    const lines = Fs.readFileSync(server.logFile, 'utf8').split('\n').filter((line) => line.includes('"req_id"')).length;
    Fs.rmSync(server.logFile);
    if (lines < responses) {
        throw new Error(`the service logged ${lines} responses of the ${responses} wrk counted: LOG_LEVEL=info must write one line per request`);
    }
}
