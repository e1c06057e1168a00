/**
 * The configuration, the one module the server and todo-admin take it from: every variable declared once
 * (config/variables.ts) and read by that declaration alone (config/read.ts), assembled into a Config
 * (config/parse.ts, the database's part in config/database.ts), and the development secret that stands in for
 * BETTER_AUTH_SECRET on a development machine (config/development-secret.ts).
 */
import Dotenv from 'dotenv';

import { withDevelopmentSecret } from './config/development-secret';
import type { Config } from './config/parse';
import { parseConfig } from './config/parse';


export type { DatabaseConfig, DatabaseTimeouts, DatabaseTls } from './config/database';
export { parseDatabaseConfig, parseDatabaseTls } from './config/database';
export type { DevelopmentSecret } from './config/development-secret';
export { developmentSecret, developmentSecretFile, readDevelopmentSecret, withDevelopmentSecret } from './config/development-secret';
export type { AuthConfig, Config, HttpTimeouts, JwksConfig, RateLimitConfig, StreamConfig, TaskLimits } from './config/parse';
export { parseAuthConfig, parseConfig, parseExpectedClaims, parseJwksConfig, parseListenConfig, parseRateLimitConfig, parseStreamConfig, parseTaskLimits, parseTokenLifetime } from './config/parse';
export type { Env } from './config/read';
export { booleanWords, ConfigError, isProduction, read } from './config/read';
export type { Group, Name, Variable } from './config/variables';
export { groups, variables } from './config/variables';


/** Adds `.env` from the working directory (when present) to process.env; real environment variables win. */
export function loadEnvFile(): void {

    Dotenv.config({ quiet: true });
}


/** Reads `.env` and parses the environment (with the development secret where that applies). */
export function readConfig(): Config {

    loadEnvFile();
    const { env, developmentSecretFile } = withDevelopmentSecret(process.env);
    return { ...parseConfig(env), developmentSecretFile };
}
