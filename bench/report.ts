// Medians, tables and bench/RESULTS.md.
import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import type { PgbenchResult } from './load';


export type Row = (string | number)[];


export interface Machine {
    cores: number;
    cpu: string;
    node: string;
    postgres: string;
    loadAverage: string;
}


const internals = {
    resultsFile: Path.join(__dirname, 'RESULTS.md'),
    preamble: [
        '# Benchmark results',
        '',
        'Written by `npm run bench` (bench/run.ts) and the `npm run bench:*` commands beside it. Each command\'s latest',
        'run replaces its own section. Absolute figures depend on the machine and on whatever else it was doing: compare',
        'figures within one section only, and carry the ratios over.',
        ''
    ].join('\n')
};


export function median(values: number[]): number {

    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}


export function medianPgbench(rounds: PgbenchResult[]): PgbenchResult {

    return {
        clients: median(rounds.map((round) => round.clients)),
        tps: median(rounds.map((round) => round.tps)),
        latencyMs: median(rounds.map((round) => round.latencyMs))
    };
}


export function ms(value: number): string {

    if (value < 10) {
        return `${value.toFixed(2)} ms`;
    }

    return value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}


/** Microseconds, signed: a difference of two costs may be either way. */
export function us(value: number): string {

    return `${value.toFixed(Math.abs(value) < 10 ? 2 : 1)} µs`;
}


export function percent(value: number): string {

    return `${(100 * value).toFixed(1)} %`;
}


export function rate(value: number): string {

    return String(Math.round(value));
}


export function ratio(value: number): string {

    return value.toFixed(2);
}


export function table(header: string[], rows: Row[]): string {

    const line = (cells: Row) => `| ${cells.join(' | ')} |`;
    return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}


export function machine(postgres: string): Machine {

    return {
        cores: Os.availableParallelism(),
        cpu: Os.cpus()[0]?.model ?? 'unknown CPU',
        node: process.version,
        postgres,
        loadAverage: Os.loadavg().map((load) => load.toFixed(2)).join(', ')
    };
}


export function describeMachine(info: Machine): string {

    return `${info.cores} cores (${info.cpu}), Node ${info.node}, PostgreSQL ${info.postgres}; load average at the start ${info.loadAverage}`;
}


/** Replaces this command's section of bench/RESULTS.md (or adds it), keeping every other command's. */
export function writeResults(command: string, body: string): string {

    const heading = `## \`${command}\``;
    const existing = Fs.existsSync(internals.resultsFile) ? Fs.readFileSync(internals.resultsFile, 'utf8') : internals.preamble;
    const parts = existing.split(/^(?=## )/m);
    const section = `${heading}\n\n${body.trim()}\n`;
    const index = parts.findIndex((part) => part.split('\n', 1)[0] === heading);

    if (index === -1) {
        parts.push(section);
    }
    else {
        parts[index] = section;
    }

    const text = parts.map((part) => part.trimEnd()).join('\n\n') + '\n';
    Fs.writeFileSync(internals.resultsFile, text);
    return internals.resultsFile;
}
