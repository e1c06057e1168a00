import { migrationSource } from '../../../src/data/migrations';
import type { Check, Reached } from './check';
import { fail, ok } from './check';


export async function migrationsCheck({ db }: Reached): Promise<Check> {

    const [applied, pending] = await db.knex.migrate.list();
    if (pending.length) {
        // Named as the database records them, the same under tsx and compiled.
        const names = pending.map((entry: string | { file?: string; name?: string }) => migrationSource.getMigrationName(typeof entry === 'string' ? entry : entry.file ?? entry.name ?? ''));
        return fail('migrations', `${pending.length} pending: ${names.join(', ')}`, 'todo-admin migrate');
    }

    return ok('migrations', `all ${applied.length} applied`);
}
