// What an open database is to its users: the request path's query, knex for the rest, and its probes.

import type { Knex } from 'knex';

import type { EmbeddedRole } from './embedded';
import type { Query } from './query';


/** An open database: the request path's statements, and knex over the same connections for everything else. */
export interface Database {
    /** Runs one statement (see query.ts): the request path's only way to the database. */
    query: Query;
    /**
     * Runs `work` in one transaction on one connection, its statements through the query it is given; commits when
     * it resolves, rolls back when it throws. For the writes that read before they write (moves, lists).
     */
    transaction<T>(work: (query: Query) => Promise<T>): Promise<T>;
    /** knex on the same connections, for migrations, seeds, todo-admin and tests. */
    knex: Knex;
    /** Resolves when the database answers a statement within timeoutMs, the wait for a connection included. */
    probe(timeoutMs: number): Promise<void>;
    /** How this process's connection is secured; null for a database in this process. */
    security(): Promise<ConnectionSecurity | null>;
    /** Closes knex, then the connections, then what this process owns of the database (the embedded one). */
    destroy(): Promise<void>;
}


/** What this process's own connection to the database is: encrypted or not, and how. */
export interface ConnectionSecurity {
    encrypted: boolean;
    /** TLSv1.3, TLSv1.2... */
    protocol: string | null;
    cipher: string | null;
}


export interface DatabaseOptions {
    /** Where knex's own warnings go (it prints them to the console otherwise). */
    log?: Knex.Logger;
    /**
     * Who opens an embedded data directory. The server owns it and serves it to other processes; todo-admin (the
     * default) goes through the running server, or owns the directory for as long as the command runs.
     */
    role?: EmbeddedRole;
    /** What the database's session list shows for these connections (the role by default). */
    applicationName?: string;
}
