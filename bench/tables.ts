// npm run bench's tables: each a Markdown table of the run's medians and ratios, with the sentence that says what it
// shows. The ratios that matter are the service's against hapi's floor (what the service adds to the framework it
// must use) and the floor's against the bare peer (what the framework costs).
import type { PgbenchResult } from './load';
import { openingHoldSec } from './load';
import type { Row } from './report';
import { median, medianPgbench, ms, rate, ratio, table } from './report';
import type { Scenario } from './scenarios';
import type { ServerKind } from './servers';
import { startScript } from './servers';
import type { Figure, Run, Target } from './targets';
import { placement, serverKinds } from './targets';


/** The service's goal against hapi's floor: at least this share of its req/s, and at most this many times its p99. */
export const goal = { reqPerSec: 0.9, p99: 1.3 };


const internals = {
    names: { bare: 'bare', floor: 'hapi floor', service: 'service' } as Record<ServerKind, string>,

    /** The median of each figure over the rounds (each on its own: the median round may differ per figure). */
    medianFigure(rounds: Figure[]): Figure {

        const of = (pick: (figure: Figure) => number) => median(rounds.map(pick));
        return {
            requests: of((round) => round.requests),
            durationUs: of((round) => round.durationUs),
            reqPerSec: of((round) => round.reqPerSec),
            p50Ms: of((round) => round.p50Ms),
            p99Ms: of((round) => round.p99Ms),
            maxMs: of((round) => round.maxMs),
            peakRssBytes: of((round) => round.peakRssBytes)
        };
    },

    /** The median over the rounds of one server's figure over another's in the same round. */
    roundsRatio(target: Target, scenario: Scenario, over: ServerKind, under: ServerKind, pick: (figure: Figure) => number): number {

        const a = target.figures[over].get(scenario.name)!;
        const b = target.figures[under].get(scenario.name)!;
        return median(a.map((figure, i) => pick(figure) / pick(b[i])));
    },

    medians(target: Target, scenario: Scenario): Record<ServerKind, Figure> {

        const entries = serverKinds.map((kind) => [kind, internals.medianFigure(target.figures[kind].get(scenario.name)!)]);
        return Object.fromEntries(entries) as Record<ServerKind, Figure>;
    }
};


export function megabytes(bytes: number): string {

    return `${Math.round(bytes / (1024 * 1024))} MB`;
}


/**
 * Per scenario: req/s of the three servers (medians of the rounds) and the ratios, each the median of the rounds' own
 * ratios: the figures of one round were taken seconds apart, those of two rounds minutes apart, under other load.
 */
export function mainTable(target: Target, scenarios: Scenario[]): string {

    const rows: Row[] = scenarios.map((scenario) => {

        const { bare, floor, service } = internals.medians(target, scenario);
        const reqRatio = internals.roundsRatio(target, scenario, 'service', 'floor', (figure) => figure.reqPerSec);
        const p99Ratio = internals.roundsRatio(target, scenario, 'service', 'floor', (figure) => figure.p99Ms);
        const floorRatio = internals.roundsRatio(target, scenario, 'floor', 'bare', (figure) => figure.reqPerSec);
        const met = reqRatio >= goal.reqPerSec && p99Ratio <= goal.p99;
        return [
            scenario.label, rate(bare.reqPerSec), `${rate(floor.reqPerSec)} (${ratio(floorRatio)})`, rate(service.reqPerSec),
            `**${ratio(reqRatio)}**`, `**${ratio(p99Ratio)}**`, met ? 'met' : 'not yet'
        ];
    });

    return [
        `Medians of the rounds; each ratio is the median of the rounds' own ratios. The goal: the service at least ${goal.reqPerSec} of hapi's floor's req/s, ` +
            `with p99 at most ${goal.p99}x the floor's.`,
        '',
        table(['scenario', 'bare req/s', 'hapi floor req/s (of bare)', 'service req/s', 'service / hapi floor', 'p99 / hapi floor', 'goal'], rows)
    ].join('\n');
}


/** Per scenario and server: latency and the most memory its processes held under the load. */
export function latencyTable(target: Target, scenarios: Scenario[]): string {

    const rows: Row[] = [];
    for (const scenario of scenarios) {
        const figures = internals.medians(target, scenario);
        for (const kind of serverKinds) {
            const figure = figures[kind];
            rows.push([scenario.name, internals.names[kind], rate(figure.reqPerSec), ms(figure.p50Ms), ms(figure.p99Ms), megabytes(figure.peakRssBytes)]);
        }
    }

    return [
        'Latency and memory (peak RSS of the server\'s processes during the measured seconds, from /proc; npm not counted):',
        '',
        table(['scenario', 'server', 'req/s', 'p50', 'p99', 'peak RSS'], rows)
    ].join('\n');
}


/** Every round's figures, and each round's ratios (the three servers' figures of a round were taken seconds apart). */
export function roundsTable(target: Target, scenarios: Scenario[]): string {

    const rows: Row[] = [];
    for (const scenario of scenarios) {
        const rounds = Object.fromEntries(serverKinds.map((kind) => [kind, target.figures[kind].get(scenario.name)!])) as Record<ServerKind, Figure[]>;
        for (const kind of serverKinds) {
            rows.push([scenario.name, internals.names[kind], rounds[kind].map((round) => rate(round.reqPerSec)).join(', '), rounds[kind].map((round) => ms(round.p99Ms)).join(', ')]);
        }

        for (const [over, under] of [['floor', 'bare'], ['service', 'floor']] as [ServerKind, ServerKind][]) {
            rows.push([
                scenario.name, `${internals.names[over]} / ${internals.names[under]}`,
                rounds[over].map((round, i) => ratio(round.reqPerSec / rounds[under][i].reqPerSec)).join(', '),
                rounds[over].map((round, i) => ratio(round.p99Ms / rounds[under][i].p99Ms)).join(', ')
            ]);
        }
    }

    return ['Each round:', '', table(['scenario', 'server', 'req/s by round', 'p99 by round'], rows)].join('\n');
}


export function pgbenchTable(run: Run, target: Target, results: Map<number, PgbenchResult[]>): string {

    const rows: Row[] = [...results.entries()].map(([wanted, rounds]) => {

        const result = medianPgbench(rounds);
        const clients = [...new Set(rounds.map((round) => round.clients))];
        const capped = clients.length > 1 || clients[0] !== wanted ? ` (${wanted} asked; max_connections allowed no more)` : '';
        return [`${clients.join('/')}${capped}`, rate(result.tps), ms(result.latencyMs)];
    });

    const list = run.options.scenarios.includes('list') ?
        ` The list scenario in the same rounds: ${serverKinds.map((kind) => `${internals.names[kind]} ${rate(internals.medianFigure(target.figures[kind].get('list')!).reqPerSec)} req/s`).join(', ')}.` :
        '';

    return [
        `pgbench (\`--protocol=extended\`, as pg sends it), the list statement for random users of the 1 000, on ${target.set.name}: ` +
            `the database alone, with the load generator placed as wrk is.${list}`,
        '',
        table(['clients', 'statements/s', 'latency average'], rows)
    ].join('\n');
}


export function scaleTable(small: Target, big: Target, scenarios: Scenario[]): string {

    const rows: Row[] = [];
    for (const scenario of scenarios) {
        for (const kind of serverKinds) {
            const a = internals.medianFigure(small.figures[kind].get(scenario.name)!);
            const b = internals.medianFigure(big.figures[kind].get(scenario.name)!);
            rows.push([
                scenario.label, internals.names[kind], rate(a.reqPerSec), rate(b.reqPerSec), ms(a.p50Ms), ms(b.p50Ms), ratio(b.p50Ms / a.p50Ms),
                ms(a.p99Ms), ms(b.p99Ms), ratio(b.p99Ms / a.p99Ms)
            ]);
        }
    }

    const [s, l] = [small.set, big.set].map((set) => `${(set.users * set.tasksPerUser).toLocaleString('en')} rows`);
    return [
        `Scale: ${big.set.name}, ${big.set.users.toLocaleString('en')} users × ${big.set.tasksPerUser} tasks, against ${small.set.name} in the same rounds.`,
        '',
        table(['scenario', 'server', `req/s ${s}`, `req/s ${l}`, `p50 ${s}`, `p50 ${l}`, 'p50 ratio', `p99 ${s}`, `p99 ${l}`, 'p99 ratio'], rows)
    ].join('\n');
}


export function afterStartTable(run: Run, windows: Record<ServerKind, Figure[]>, windowSec: number): string {

    const rows: Row[] = windows.bare.map((_, i) => {

        const [bare, floor, service] = serverKinds.map((kind) => windows[kind][i]);
        return [
            `${i * windowSec}-${(i + 1) * windowSec} s`, rate(bare.reqPerSec), rate(floor.reqPerSec), rate(service.reqPerSec),
            ratio(service.reqPerSec / floor.reqPerSec), ms(bare.p99Ms), ms(floor.p99Ms), ms(service.p99Ms)
        ];
    });

    return [
        `After a start: each server started afresh and put under the ${run.scenarios[0].name} scenario's load from its first request, in windows of ${windowSec} s ` +
            '(the figures above are of warm servers):',
        '',
        table(['since the first request', 'bare req/s', 'hapi floor req/s', 'service req/s', 'service / hapi floor', 'bare p99', 'hapi floor p99', 'service p99'], rows)
    ].join('\n');
}


export function startupTable(run: Run, startup: { npm: number[]; direct: number[] }): string {

    return [
        `Start-up, from the command to the first \`/health\` 200 on PostgreSQL${run.pinned ? `, pinned to core ${placement.serverCpu}` : ''} (median of ${run.options.startupRuns}):`,
        '',
        table(['command', 'median', 'runs'], [
            ['`npm start`', ms(median(startup.npm)), startup.npm.map(ms).join(', ')],
            [`\`sh -c '${startScript()}'\` (without npm)`, ms(median(startup.direct)), startup.direct.map(ms).join(', ')]
        ])
    ].join('\n');
}


export function setupText(run: Run, target: Target): string {

    const { options } = run;
    const where = run.pinned ?
        `Each server pinned to core ${placement.serverCpu} (\`taskset -c ${placement.serverCpu}\`), wrk (1 thread) to core ${placement.loadCpu}, PostgreSQL unpinned.` :
        `All cores: WEB_CONCURRENCY=${options.workers} for every server (node:cluster), nothing pinned: the servers, PostgreSQL and wrk (2 threads) share every core.`;

    const warmup = options.warmupSec > 0 ?
        `each server process first warmed by ${options.warmupSec} s of every scenario, then ${options.warmupSec} s warm-up and ` :
        'no warm-up, ';
    return [
        `${where} ${options.connections} connections, 1 000 users' tokens rotating; ${warmup}${options.durationSec} s measured per scenario and server` +
            (options.slices > 1 ? ` in ${options.slices} slices of ${options.durationSec / options.slices} s, taken on the three servers in turn and added up; ` : '; ') +
            `each run of wrk opens its connections and holds their first requests ${openingHoldSec} s before its measured seconds start; ` +
            `${options.rounds} round(s), each with the three servers up and each scenario measured on each in turn (the order rotates from round to round); medians.`,
        `The servers: bare, node:http + pg (bench/bare-server.ts), the practical limit; hapi floor, one hapi route per scenario with nothing else ` +
            '(bench/hapi-floor.ts), the framework\'s own floor; both with a cached HS256 check and the service\'s SQL as named prepared statements, ' +
            `no validation, no logging. The service: \`npm start\` (\`${startScript()}\`), LOG_LEVEL=info, its log to a file${run.dir.startsWith('/dev/shm/') ? ' in memory (tmpfs)' : ''}. ` +
            `Data: ${target.set.name}, ${target.set.users.toLocaleString('en')} users × ${target.set.tasksPerUser} tasks.`
    ].join(' ');
}
