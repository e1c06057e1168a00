import Fs from 'node:fs';
import Path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import type { PGliteOptions } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

import { privateTree, readOnlyForOthers, untrustedEntry } from '../private-files';


/**
 * A new embedded database starts from a copy of an empty one made at install time (npm install runs the build, which
 * makes it; it holds the extensions of pgliteExtensions, created), instead of running PGlite's initdb: a data directory is copied from a directory (tens of milliseconds,
 * against about 5 s for initdb on the development machine), an in-memory database is loaded from an archive (about
 * 1 s). The copies belong to the installed PGlite: they are kept in node_modules/.cache under PGlite's version, so
 * an upgrade (a new install) makes new ones, and a missing or unusable copy only means the slow way.
 */
const internals = {
    options: (more: PGliteOptions = {}): PGliteOptions => ({ ...more, extensions: pgliteExtensions }),
    createExtensions: Object.keys({ pg_trgm, btree_gin }).map((name) => `create extension if not exists ${name};`).join(' '),

    pgliteRoot(): string {

        // PGlite's package.json is not among its exports; its entry point is in <root>/dist/.
        const entry = require.resolve('@electric-sql/pglite');
        for (let dir = Path.dirname(entry); dir !== Path.dirname(dir); dir = Path.dirname(dir)) {
            if (Fs.existsSync(Path.join(dir, 'package.json'))) {
                return dir;
            }
        }

        throw new Error(`no package.json above ${entry}`);
    },

    version(root: string): string {

        return JSON.parse(Fs.readFileSync(Path.join(root, 'package.json'), 'utf8')).version;
    },

    /** A copy anyone but this user (or the system) could have changed is not used. */
    trusted(path: string): boolean {

        try {
            return untrustedEntry(path) === null;
        }
        catch {
            return false;
        }
    },

    async openDirectory(dataDir: string, template: { directory: string; archive: string }): Promise<PGlite> {

        if (Fs.existsSync(Path.join(dataDir, 'PG_VERSION')) || !Fs.existsSync(Path.join(template.directory, 'PG_VERSION')) || !internals.trusted(template.directory)) {
            return await PGlite.create(dataDir, internals.options());
        }

        // The directory may already hold the lock and the development secret: only what the copy adds is taken back.
        const before = new Set(Fs.existsSync(dataDir) ? Fs.readdirSync(dataDir) : []);
        let pglite: PGlite | null = null;
        try {
            Fs.cpSync(template.directory, dataDir, { recursive: true, errorOnExist: true, force: false });
            pglite = await PGlite.create(dataDir, internals.options());
            await pglite.query('select 1');
            return pglite;
        }
        catch {
            await pglite?.close().catch(() => undefined);
            for (const entry of Fs.existsSync(dataDir) ? Fs.readdirSync(dataDir) : []) {
                if (!before.has(entry)) {
                    Fs.rmSync(Path.join(dataDir, entry), { recursive: true, force: true });
                }
            }

            return await PGlite.create(dataDir, internals.options());
        }
    },

    read(file: string): Buffer | null {

        try {
            return Fs.readFileSync(file);
        }
        catch {
            return null;
        }
    }
};


/**
 * The extensions the migrations create (pg_trgm and btree_gin for the search's index): PGlite loads an extension's
 * files only when the instance is created with it, so every PGlite this project opens is created with these.
 */
export const pgliteExtensions = { pg_trgm, btree_gin };


/** Where the copies for the installed PGlite are kept: node_modules/.cache/todo-api/pglite-<version>[.tar.gz]. */
export function embeddedTemplate(): { directory: string; archive: string } {

    const root = internals.pgliteRoot();
    const base = Path.join(Path.resolve(root, '..', '..'), '.cache', 'todo-api', `pglite-${internals.version(root)}`);
    return { directory: base, archive: `${base}.tar.gz` };
}


/**
 * Makes the copies when the installed PGlite has none. Each is written whole or not at all, and readable by others
 * but writable by this user only (PGlite writes its files with mode 0666): a database another user could change
 * would become every new data directory.
 */
export async function writeEmbeddedTemplate(template = embeddedTemplate()): Promise<boolean> {

    const cache = Path.dirname(template.directory);
    if (Fs.existsSync(template.directory) && Fs.existsSync(template.archive)) {
        readOnlyForOthers(cache);
        return false;
    }

    Fs.mkdirSync(Path.dirname(template.directory), { recursive: true });
    const partial = `${template.directory}.${process.pid}.partial`;
    Fs.rmSync(partial, { recursive: true, force: true });

    try {
        const pglite = await PGlite.create(partial, internals.options());
        try {
            // Created here once rather than by the migration in every new database (about a second each).
            await pglite.exec(internals.createExtensions);
            const dump = await pglite.dumpDataDir('gzip');
            Fs.writeFileSync(`${partial}.tar.gz`, Buffer.from(await dump.arrayBuffer()));
        }
        finally {
            await pglite.close();
        }
    }
    catch (err) {
        Fs.rmSync(partial, { recursive: true, force: true });
        Fs.rmSync(`${partial}.tar.gz`, { force: true });
        throw err;
    }

    readOnlyForOthers(partial);
    readOnlyForOthers(`${partial}.tar.gz`);
    Fs.rmSync(template.directory, { recursive: true, force: true });
    Fs.renameSync(partial, template.directory);
    Fs.renameSync(`${partial}.tar.gz`, template.archive);
    readOnlyForOthers(cache);
    return true;
}


/**
 * Opens PGlite on dataDir (null: in memory). A directory that holds no database yet, or memory, starts from the copy
 * when there is one that only this user (or the system) can have written; if the copy cannot be used, what it put in
 * the directory is removed and initdb runs as without it. Files copied into a directory are this user's only (0600).
 */
export async function openPglite(dataDir: string | null, template = embeddedTemplate()): Promise<PGlite> {

    if (dataDir === null) {
        const archive = internals.trusted(template.archive) ? internals.read(template.archive) : null;
        if (archive) {
            const pglite = await PGlite.create(internals.options({ loadDataDir: new Blob([archive]) })).catch(() => null);
            if (pglite) {
                return pglite;
            }
        }

        return await PGlite.create(internals.options());
    }

    const pglite = await internals.openDirectory(dataDir, template);
    // PGlite makes its files readable and writable by all (0666), those it writes on opening included.
    privateTree(dataDir);
    return pglite;
}


if (require.main === module) {
    writeEmbeddedTemplate().then((written) => {

        if (written) {
            process.stdout.write(`todo-api: new embedded databases start from a copy of an empty one in ${embeddedTemplate().directory}\n`);
        }
    }).catch((err: unknown) => {

        // Without it a new embedded database is only slower to make.
        process.stderr.write(`todo-api: no copy of an empty embedded database was made (${(err as Error).message}); new ones take longer to create\n`);
    });
}
