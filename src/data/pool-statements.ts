import type Pg from 'pg';

import type { Statement } from './query';


/** Runs the request path's statements on a pool's connections, each bounded by a timeout. */
export interface StatementRunner {
    /** The statement's result, on a connection taken from the pool for it; `named`: prepared under the statement's name (else run unnamed). */
    run(statement: Statement, values: readonly unknown[], named: boolean): Promise<Pg.QueryResult>;
    /**
     * The statement's result on a connection the caller holds (a transaction's), bounded the same way; the connection
     * stays the caller's. After a StatementTimeout it still waits for that answer: release it with the error.
     */
    runOn(client: Pg.PoolClient, statement: Statement, values: readonly unknown[], named: boolean): Promise<Pg.QueryResult>;
    /** Stops the clock that fails statements past the timeout. */
    stop(): void;
}


/** A statement with no answer within the timeout: pg's own message for it, which the data boundary answers 503. */
export class StatementTimeout extends Error {
    constructor() {

        super('Query read timeout');
    }
}


interface Running {
    deadline: number;
    finish(err: Error | null, result?: Pg.QueryResult): void;
}


const internals = {
    // How often the statements in flight are looked at for one past its timeout: a statement fails between the
    // timeout and this much later.
    sweepFraction: 8,
    maxSweepMs: 250
};


/**
 * A statement's config as pg takes it, made once per statement and kept: pg copies a config's own properties into a
 * new object for every query it runs (utils.normalizeQueryConfig), and a config whose name and text are on its
 * prototype has none to copy, so that copy costs next to nothing. The values go alongside, as pg's second argument.
 */
class StatementConfigs {
    private readonly configs = new WeakMap<Statement, { named: Pg.QueryConfig; unnamed: Pg.QueryConfig }>();

    /** `named`: prepared under the statement's name, when it has one (else run unnamed). */
    of(statement: Statement, named: boolean): Pg.QueryConfig {

        let configs = this.configs.get(statement);
        if (!configs) {
            const unnamed = Object.create({ text: statement.text }) as Pg.QueryConfig;
            configs = {
                named: statement.name ? Object.create({ name: statement.name, text: statement.text }) as Pg.QueryConfig : unnamed,
                unnamed
            };

            this.configs.set(statement, configs);
        }

        return named ? configs.named : configs.unnamed;
    }
}


/**
 * Runs a statement on a connection taken from the pool and gives the connection back, as pg's pool.query does, or on
 * a connection a transaction holds, and bounds the wait for its answer (timeoutMs; 0: no bound): past it the statement
 * fails with pg's own "Query read timeout" (StatementTimeout), and the connection, which still waits for that answer
 * (a stalled network, a hung server), goes back with the error, so that the pool closes it rather than hand it out
 * again (a transaction's, when the transaction releases it).
 *
 * One clock for all the statements in flight, rather than a timer each: a timer per statement costs more than the
 * rest of this path, and it would keep the statement's rows from being collected young. Likewise one error listener
 * per connection, for the life of the connection: a connection that fails mid-statement (the server ended it) fails
 * that statement.
 */
export function statementRunner(pool: Pg.Pool, timeoutMs: number): StatementRunner {

    const configs = new StatementConfigs();
    // In the order they started, so their deadlines come in the same order.
    const running = new Map<Pg.PoolClient, Running>();

    // An error on a connection out of the pool with no statement running (a transaction between its statements)
    // fails nothing here: the work holding the connection learns of it from its next statement, and the pool drops
    // the connection when it comes back. Without a listener the error would end the process.
    pool.on('connect', (client) => {

        client.on('error', (err: Error) => running.get(client)?.finish(err));
    });

    const sweep = () => {

        const now = performance.now();
        for (const statement of running.values()) {
            if (statement.deadline > now) {
                return;
            }

            statement.finish(new StatementTimeout());
        }
    };

    const clock = timeoutMs ? setInterval(sweep, Math.min(internals.maxSweepMs, Math.ceil(timeoutMs / internals.sweepFraction))) : null;
    clock?.unref();

    // `release`: the connection was taken for this statement, and goes back when it ends.
    const start = (client: Pg.PoolClient, statement: Statement, values: readonly unknown[], named: boolean, release: boolean, resolve: (result: Pg.QueryResult) => void, reject: (err: Error) => void) => {

        let done = false;
        const finish = (err: Error | null, result?: Pg.QueryResult) => {

            if (done) {
                return;                 // The answer after the timeout, or the error of the connection being closed.
            }

            done = true;
            running.delete(client);
            if (release) {
                client.release(err ?? undefined);
            }

            if (err) {
                reject(err);
            }
            else {
                resolve(result!);
            }
        };

        running.set(client, { deadline: timeoutMs ? performance.now() + timeoutMs : Infinity, finish });

        try {
            // pg's typings list the values beside a config only for a text; it takes them beside either.
            (client.query as (config: Pg.QueryConfig, values: unknown[], callback: typeof finish) => void)(configs.of(statement, named), values as unknown[], finish);
        }
        catch (err) {
            finish(err as Error);
        }
    };

    return {
        run(statement, values, named) {

            return new Promise((resolve, reject) => {

                pool.connect((err, client) => {

                    if (err) {
                        reject(err);
                        return;
                    }

                    start(client!, statement, values, named, true, resolve, reject);
                });
            });
        },

        runOn(client, statement, values, named) {

            return new Promise((resolve, reject) => start(client, statement, values, named, false, resolve, reject));
        },

        stop() {

            if (clock) {
                clearInterval(clock);
            }
        }
    };
}
