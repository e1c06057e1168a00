import Crypto from 'node:crypto';

import type { Database } from './database';
import { timestampColumn } from './time';


export interface User {
    id: string;
    email: string;
    name: string | null;
    created_at: string;
}


export class DuplicateUserError extends Error {

    constructor(field: 'id' | 'email', value: string) {

        super(`a user with ${field} ${value} already exists`);
        this.name = 'DuplicateUserError';
    }
}


const internals = {
    columns: `id, email, name, ${timestampColumn('created_at')}`,
    alphabet: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
};


/** A new user id in Better Auth's form: 32 random letters and digits. */
export function newUserId(): string {

    let id = '';
    for (const byte of Crypto.randomBytes(32)) {
        id += internals.alphabet[byte % internals.alphabet.length];
    }

    return id;
}


export function normalizeEmail(email: string): string {

    return email.trim().toLowerCase();
}


/**
 * The operators' directory of users. Task ownership does not depend on it: tokens come from the auth server.
 */
export function userStore(db: Database) {

    return {
        async listUsers(): Promise<User[]> {

            const result = await db.knex.raw(`select ${internals.columns} from users order by created_at, id`);
            return result.rows;
        },

        async findUserByEmail(email: string): Promise<User | null> {

            const result = await db.knex.raw(`select ${internals.columns} from users where email = ?`, [normalizeEmail(email)]);
            return result.rows[0] ?? null;
        },

        async addUser(user: { id?: string; email: string; name?: string | null }): Promise<User> {

            const id = user.id ?? newUserId();
            try {
                const result = await db.knex.raw(`insert into users (id, email, name) values (?, ?, ?) returning ${internals.columns}`,
                    [id, normalizeEmail(user.email), user.name ?? null]);
                return result.rows[0];
            }
            catch (err) {
                if ((err as { code?: string }).code === '23505') {
                    const onId = /pkey/.test((err as { constraint?: string }).constraint ?? '');
                    throw new DuplicateUserError(onId ? 'id' : 'email', onId ? id : normalizeEmail(user.email));
                }

                throw err;
            }
        }
    };
}


export type UserStore = ReturnType<typeof userStore>;
