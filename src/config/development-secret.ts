import Crypto from 'node:crypto';
import Path from 'node:path';

import { createPrivateFile, NotPrivateError, privateDirectory, readPrivateFile } from '../private-files';
import { parseDatabaseLocation } from './database';
import type { Env } from './read';
import { ConfigError, isProduction, read } from './read';
import { variables } from './variables';


/** A secret made for one machine's embedded database, and the file that keeps it. */
export interface DevelopmentSecret {
    secret: string;
    file: string;
}


const internals = {
    file: 'dev-secret',
    bytes: 32,

    tooShort: (file: string) => new ConfigError('BETTER_AUTH_SECRET', `is not set, and the development secret in ${file} is too short: delete the file to have a new one made`)
};


/**
 * Where the development secret is kept, when one applies: on a development machine — no BETTER_AUTH_SECRET, HS256
 * on, the embedded database in a directory, NODE_ENV not production. Null anywhere else: there the secret must be
 * set. Decided before the secret exists, so from the environment, but by the same readers as the configuration.
 */
export function developmentSecretFile(env: Env): string | null {

    if (read(env, 'BETTER_AUTH_SECRET') !== null || isProduction(env) || !read(env, 'JWT_ALLOW_HS256')) {
        return null;
    }

    const location = parseDatabaseLocation(env);
    return location.kind === 'pglite' && location.dataDir !== null ? Path.join(location.dataDir, internals.file) : null;
}


/**
 * The development secret (see developmentSecretFile), kept in the data directory (mode 600) and made the first time
 * it is asked for, so that the server and todo-admin share it; null where none applies.
 */
export function developmentSecret(env: Env): DevelopmentSecret | null {

    const file = developmentSecretFile(env);
    if (file === null) {
        return null;
    }

    // Made by this user only, and read only while it is still this user's alone: a secret that someone else could
    // have written would let them sign tokens for any user.
    privateDirectory(Path.dirname(file));
    createPrivateFile(file, Crypto.randomBytes(internals.bytes).toString('base64url'));
    const secret = readDevelopmentSecret(file);
    if (secret === null) {
        throw internals.tooShort(file);
    }

    return { secret, file };
}


/**
 * The development secret kept in this file, refused as the server refuses it (a file someone else could have
 * written, one too short); null while there is none. Makes nothing: todo-admin doctor reads it this way.
 */
export function readDevelopmentSecret(file: string): string | null {

    let secret: string | null;
    try {
        secret = readPrivateFile(file)?.trim() ?? null;
    }
    catch (err) {
        if (err instanceof NotPrivateError) {
            throw new ConfigError('BETTER_AUTH_SECRET', `is not set, and the development secret is refused: ${err.message} (a new one is made on the next start)`);
        }

        throw err;
    }

    if (secret !== null && secret.length < variables.BETTER_AUTH_SECRET.minLength) {
        throw internals.tooShort(file);
    }

    return secret;
}


/** The environment with BETTER_AUTH_SECRET taken from the development secret when that applies (see developmentSecret). */
export function withDevelopmentSecret(env: Env): { env: Env; developmentSecretFile: string | null } {

    const development = developmentSecret(env);
    return development ?
        { env: { ...env, BETTER_AUTH_SECRET: development.secret }, developmentSecretFile: development.file } :
        { env, developmentSecretFile: null };
}
