import Os from 'node:os';

import type { Name, Variable } from './variables';
import { variables } from './variables';


export type Env = Record<string, string | undefined>;


/** A variable that cannot be taken: one line that starts with its name and says what it must be. */
export class ConfigError extends Error {

    constructor(variable: string, problem: string) {

        super(`${variable} ${problem}`);
        this.name = 'ConfigError';
    }
}


/** What reading a declared variable gives, by its kind; null for one left unset that has no default. */
export type Value<V extends Variable> =
    V extends { kind: 'integer' } ? number :
        V extends { kind: 'boolean' } ? boolean :
            V extends { kind: 'origins' } ? string[] :
                V extends { kind: 'enum'; values: readonly (infer T)[] } ? T | (V['default'] extends null ? null : never) :
                    V extends { default: string } ? string :
                        string | null;


/** The words a boolean variable takes, in any case. */
export const booleanWords: { true: readonly string[]; false: readonly string[] } = {
    true: ['true', '1', 'yes', 'on'],
    false: ['false', '0', 'no', 'off']
};


const internals = {

    /** The variable's text, trimmed; null when unset or blank. */
    text(env: Env, name: string): string | null {

        const value = env[name]?.trim();
        return value ? value : null;
    },

    integer(name: string, raw: string, variable: Extract<Variable, { kind: 'integer' }>): number {

        if (variable.auto === 'cores' && raw.toLowerCase() === 'auto') {
            return Os.availableParallelism();
        }

        const value = Number(raw);
        if (!/^\d+$/.test(raw) || value < variable.min || value > variable.max) {
            throw new ConfigError(name, `must be ${variable.auto ? 'auto or ' : ''}a whole number from ${variable.min} to ${variable.max}, not "${raw}"`);
        }

        return value;
    },

    boolean(name: string, raw: string): boolean {

        const word = raw.toLowerCase();
        if (booleanWords.true.includes(word)) {
            return true;
        }

        if (booleanWords.false.includes(word)) {
            return false;
        }

        throw new ConfigError(name, `must be true or false, not "${raw}"`);
    },

    oneOf(name: string, raw: string, variable: Extract<Variable, { kind: 'enum' }>): string {

        if (!variable.values.includes(raw)) {
            throw new ConfigError(name, `must be one of ${variable.values.join(', ')}, not "${raw}"`);
        }

        return raw;
    },

    secret(name: string, raw: string, variable: Extract<Variable, { kind: 'secret' }>): string {

        if (raw.length < variable.minLength) {
            throw new ConfigError(name, `is too short: it needs at least ${variable.minLength} characters`);
        }

        // The placeholder shipped in .env.example: a copied example file must not become a production secret.
        if (raw === variable.placeholder) {
            throw new ConfigError(name, 'still holds the placeholder from .env.example: set a real secret');
        }

        return raw;
    },

    url(name: string, raw: string, variable: Extract<Variable, { kind: 'url' }>): string {

        let parsed: URL | null = null;
        try {
            parsed = new URL(raw);
        }
        catch {
            // Reported below, with what is expected.
        }

        if (!parsed || !variable.protocols.includes(parsed.protocol) || !parsed.hostname) {
            const schemes = variable.protocols.map((protocol) => `${protocol}//`).join(' or ');
            throw new ConfigError(name, `must be a URL such as ${variable.example} (${schemes}), not "${raw}"`);
        }

        return raw;
    },

    /** Browser origins: scheme, host and port, each named (credentials are allowed, so never *). */
    origins(name: string, raw: string): string[] {

        const origins = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
        for (const origin of origins) {
            if (origin === '*') {
                throw new ConfigError(name, 'cannot be *: credentials are allowed, so list each origin');
            }

            let parsed: URL;
            try {
                parsed = new URL(origin);
            }
            catch {
                throw new ConfigError(name, `holds "${origin}", which is not an origin such as https://app.example.com`);
            }

            if (parsed.origin !== origin.replace(/\/$/, '')) {
                throw new ConfigError(name, `holds "${origin}": an origin is scheme, host and port only, with no path`);
            }
        }

        return origins.map((origin) => origin.replace(/\/$/, ''));
    },

    parse(env: Env, name: string, variable: Variable): unknown {

        const raw = internals.text(env, name);
        switch (variable.kind) {
            case 'integer':
                return raw === null ? variable.default : internals.integer(name, raw, variable);
            case 'boolean':
                return raw === null ? variable.default : internals.boolean(name, raw);
            case 'enum':
                return raw === null ? variable.default : internals.oneOf(name, raw, variable);
            case 'secret':
                return raw === null ? variable.default : internals.secret(name, raw, variable);
            case 'url':
                return raw === null ? variable.default : internals.url(name, raw, variable);
            case 'origins':
                // A frontend on this machine by default, but never in production: there an origin is allowed only by name.
                return internals.origins(name, raw ?? (isProduction(env) ? variable.productionDefault : variable.default));
            case 'text':
            case 'file':
            case 'database-url':
                return raw ?? variable.default;
        }
    }
};


/** A declared variable's value, parsed and checked by its declaration (its default when unset). */
export function read<N extends Name>(env: Env, name: N): Value<(typeof variables)[N]> {

    return internals.parse(env, name, variables[name]) as Value<(typeof variables)[N]>;
}


/** NODE_ENV=production: no development secret, no origin unless named, no token minted without being asked twice. */
export function isProduction(env: Env): boolean {

    return read(env, 'NODE_ENV') === 'production';
}
