import type { Database } from '../../../src/data/database';
import { DatabaseTlsError } from '../../../src/data/postgres-tls';
import type { DatabaseFacts } from '../../../src/data/diagnostics';
import { databaseFacts, roundTripMs } from '../../../src/data/diagnostics';
import type { Check } from './check';
import { fail, ok, reason } from './check';


/** Whether the database answers, what it is and how far; its facts for the checks that follow, when it answered. */
export async function databaseCheck(db: Database, description: string): Promise<{ check: Check; facts: DatabaseFacts | null }> {

    let ms: number;
    let facts: DatabaseFacts;
    try {
        ms = await roundTripMs(db);
        facts = await databaseFacts(db);
    }
    catch (err) {
        return {
            check: err instanceof DatabaseTlsError ?
                fail('database', `${description}: ${err.problem}`, err.fix) :
                fail('database', `${description} cannot be reached: ${reason(err)}`, 'check DATABASE_URL, and that the database accepts connections from here'),
            facts: null
        };
    }

    const product = facts.version.split(' on ')[0].split(',')[0];
    return { check: ok('database', `${description}: ${product}, round trip ${ms.toFixed(1)} ms`), facts };
}
