import Path from 'node:path';

import type { DatabaseConfig } from '../config';
import type { Database, DatabaseOptions } from './database';
import { embeddedOwner, EmbeddedDatabaseInUse, ownEmbeddedDatabase } from './embedded';
import { openPglite } from './embedded-template';
import { inProcessDatabase } from './in-process';
import { poolDatabase } from './postgres';
import { postgresConnection } from './postgres-tls';


const internals = {
    // The server's pool on its own embedded database (which runs one statement at a time), and todo-admin's.
    serverPoolMax: 4,
    guestPoolMax: 2,

    /** The embedded database's socket: this machine's, so no TLS (whatever PGSSLMODE says). */
    socketConnection(path: string) {

        // pg finds a Unix socket by its directory: <host>/.s.PGSQL.<port>.
        return { host: Path.dirname(path), port: 5432, user: 'postgres', database: 'postgres', ssl: false };
    },

    async openEmbedded(config: Extract<DatabaseConfig, { kind: 'pglite' }>, dataDir: string, options: DatabaseOptions): Promise<Database> {

        const role = options.role ?? 'todo-admin';
        if (role === 'todo-admin') {
            // A running server serves the directory: go through it rather than open a second copy.
            const owner = embeddedOwner(dataDir);
            if (typeof owner?.socket?.path === 'string') {
                const connection = internals.socketConnection(owner.socket.path);
                return poolDatabase({ connection, tls: null, host: null, poolMax: internals.guestPoolMax, prepared: false, announces: false }, config, options);
            }

            if (owner) {
                throw new EmbeddedDatabaseInUse(dataDir, owner);
            }
        }

        const owned = await ownEmbeddedDatabase(dataDir, { role, serve: role === 'todo-api' });
        if (!owned.socket) {
            return inProcessDatabase(owned.pglite, options, () => owned.close());
        }

        const connection = internals.socketConnection(owned.socket.path);
        return poolDatabase({ connection, tls: null, host: null, poolMax: internals.serverPoolMax, prepared: false, announces: false }, config, options, () => owned.close());
    }
};


/**
 * Opens the configured database. An embedded data directory has one owner at a time (see DatabaseOptions.role);
 * EmbeddedDatabaseInUse says who holds it when it cannot be shared.
 */
export async function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {

    if (config.kind === 'postgres') {
        const { connection, tls, host } = postgresConnection(config);
        const prepared = config.preparedStatements ?? true;
        return poolDatabase({ connection, tls, host, poolMax: config.poolMax, prepared, announces: true }, config, options);
    }

    if (config.dataDir) {
        return internals.openEmbedded(config, config.dataDir, options);
    }

    const pglite = await openPglite(null);
    return inProcessDatabase(pglite, options, async () => {

        if (!pglite.closed) {
            await pglite.close();
        }
    });
}


export function describeDatabase(config: DatabaseConfig): string {

    if (config.kind === 'pglite') {
        return config.dataDir ? `embedded PGlite in ${config.dataDir}` : 'embedded PGlite in memory';
    }

    const url = new URL(config.url);
    return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
