import Fs from 'node:fs';
import Path from 'node:path';

import type { Knex } from 'knex';


// The schema's history: the migrations knex runs (todo-admin migrate, the tests), and the seeds.


const internals = {
    // The tree this module runs from: the repository under tsx, dist/ once compiled.
    codeRoot: Path.resolve(__dirname, '..', '..'),
    // What that tree's modules end in: .ts under tsx, .js compiled (beside a .d.ts of the same name, not a module).
    codeExtension: Path.extname(__filename)
};


export const migrationsDirectory = Path.join(internals.codeRoot, 'migrations');


/** Where a new migration is written: the TypeScript sources, which the build compiles into dist/migrations. */
export const migrationSourcesDirectory = Path.join(internals.codeExtension === '.js' ? Path.dirname(internals.codeRoot) : internals.codeRoot, 'migrations');


/**
 * The migrations as the TypeScript sources (under tsx) or their compiled JavaScript (dist/), both recorded under
 * the source's name: a database migrated by one runs as up to date under the other.
 */
export const migrationSource: Knex.MigrationSource<string> = {
    getMigrations() {

        const files = Fs.readdirSync(migrationsDirectory).filter((file) => /^[^.]+\.(ts|js)$/.test(file));
        return Promise.resolve(files.sort());
    },
    getMigrationName(file) {

        return file.replace(/\.js$/, '.ts');
    },
    getMigration(file) {

        return Promise.resolve(require(Path.join(migrationsDirectory, file)));
    }
};


export const migrationConfig: Knex.MigratorConfig = {
    migrationSource,
    tableName: 'knex_migrations'
};


/**
 * Brings a database this process owns (the embedded one) up to date. Nothing pending, as on every start but the
 * first, costs one statement; otherwise knex's migrator runs, with its lock. Saves a start the migrator's dozen
 * statements and its transaction.
 */
export async function migrateOwnDatabase(db: Knex): Promise<void> {

    const files = await migrationSource.getMigrations([]);
    const applied = await db.raw(`select name from ${migrationConfig.tableName}`)
        .then(({ rows }: { rows: { name: string }[] }) => new Set(rows.map((row) => row.name)))
        .catch(() => new Set<string>());                                                      // no table yet: a new database

    if (files.every((file) => applied.has(migrationSource.getMigrationName(file)))) {
        return;
    }

    await db.migrate.latest();
}


export const seedConfig: Knex.SeederConfig = {
    directory: Path.join(internals.codeRoot, 'seeds'),
    loadExtensions: [internals.codeExtension],
    extension: 'ts'
};
