import type { Plugin } from '@hapi/hapi';

import type { Config, TaskLimits } from './config';
import type { Database } from './data/database';
import type { ListStore } from './data/lists';
import { listStore } from './data/lists';
import type { TaskStore } from './data/tasks';
import { taskStore } from './data/tasks';
import { authPlugin } from './auth/jwt';
import { changeSignals } from './data/change-signals';
import type { ChangeStreams } from './streams/change-streams';
import { changeStreams } from './streams/change-streams';
import { createBudgets } from './rate-limits/budgets';
import { authFailureGate, rateLimits } from './rate-limits/plugin';
import { responseShaping } from './extensions/responses';
import { refusingTrailingSlash } from './extensions/trailing-slash';
import { listChanges } from './routes/changes/feed';
import { streamChanges } from './routes/changes/stream';
import { docsAssets } from './routes/docs/assets';
import { contract } from './routes/docs/contract';
import { docsPage } from './routes/docs/page';
import { liveness } from './routes/health/liveness';
import { readiness } from './routes/health/readiness';
import { clearCompletedTasks } from './routes/tasks/clear-completed';
import { completeTask } from './routes/tasks/complete';
import { createTask } from './routes/tasks/create';
import { deleteTask } from './routes/tasks/delete';
import { getTask } from './routes/tasks/get';
import { listTasks } from './routes/tasks/list';
import { moveTask } from './routes/tasks/move';
import { replaceTask } from './routes/tasks/replace';
import { taskStats } from './routes/tasks/stats';
import { updateTask } from './routes/tasks/update';
import { createList } from './routes/lists/create';
import { deleteList } from './routes/lists/delete';
import { getList } from './routes/lists/get';
import { listLists } from './routes/lists/list';
import { moveList } from './routes/lists/move';
import { updateList } from './routes/lists/update';
import { emptyTrash } from './routes/trash/empty';
import { listTrash } from './routes/trash/list';
import { purgeTask } from './routes/trash/purge';
import { restoreTask } from './routes/trash/restore';


declare module '@hapi/hapi' {
    interface ServerApplicationState {
        db: Database;
        tasks: TaskStore;
        lists: ListStore;
        limits: TaskLimits;
        version: string;
        probeTimeoutMs: number;
        streams: ChangeStreams;
        maxStreamsPerUser: number;
    }
}


export interface AppOptions {
    config: Config;
    db: Database;
    /** The clock the key set reads (see ServerOptions). */
    keySetClock?: () => number;
}


/**
 * The whole application as one plugin: auth, rate limits, data access, routes and error shaping.
 */
export const appPlugin: Plugin<AppOptions> = {
    name: 'todo-api',
    dependencies: ['@hapi/jwt'],
    async register(server, { config, db, keySetClock }) {

        server.app.db = db;
        server.app.tasks = taskStore(db, config.limits);
        server.app.lists = listStore(db, config.limits);
        server.app.limits = config.limits;
        server.app.version = config.version;
        server.app.probeTimeoutMs = config.database.timeoutMs;
        server.app.maxStreamsPerUser = config.stream.maxStreamsPerUser;

        // The live streams learn of changes through one listening connection (and a poll) per process, opened with
        // the first stream and closed after the server; the streams themselves end first, as the server stops, so
        // that the stop does not wait on them.
        const log = (tags: string[], data: unknown) => server.log(tags, data as object);
        const signals = changeSignals(config.database, db, { listenUrl: config.stream.listenUrl, catchUpMs: config.stream.catchUpSec * 1000, log });
        server.app.streams = changeStreams({ db, signals, config: config.stream, log });
        server.ext('onPreStop', () => server.app.streams.closeAll());
        server.ext('onPostStop', () => signals.close());

        // What one client may spend: budgets per user and per address, and for failed authentications.
        const budgets = createBudgets(config.rateLimits, (tags, data) => server.log(tags, data));
        server.ext('onPostStop', () => budgets.close());

        await server.register({ plugin: authPlugin, options: { ...config.auth, failures: authFailureGate(budgets.authFailures, config.rateLimits.trustedProxies), keySetClock } });
        await server.register({ plugin: rateLimits, options: { budgets, trustedProxies: config.rateLimits.trustedProxies, unlimited: [readiness.path, liveness.path] } });

        server.ext(responseShaping);

        // One call each: hapi types a route array with a single request shape, and each route has its own.
        server.route(readiness);
        server.route(liveness);
        server.route(contract);
        server.route(docsPage);
        server.route(docsAssets);
        server.route(listTasks);
        server.route(createTask);
        server.route(refusingTrailingSlash(clearCompletedTasks));
        server.route(taskStats);
        server.route(getTask);
        server.route(replaceTask);
        server.route(updateTask);
        server.route(completeTask);
        server.route(refusingTrailingSlash(deleteTask));
        server.route(moveTask);
        server.route(listLists);
        server.route(createList);
        server.route(getList);
        server.route(updateList);
        server.route(refusingTrailingSlash(deleteList));
        server.route(moveList);
        server.route(listTrash);
        server.route(refusingTrailingSlash(emptyTrash));
        server.route(refusingTrailingSlash(purgeTask));
        server.route(restoreTask);
        server.route(listChanges);
        server.route(streamChanges);
    }
};
