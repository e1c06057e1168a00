import type { Check, Reached } from './check';
import { ok, warn } from './check';
import { pooled } from './pooler';


/** Where live streams learn of changes: LISTEN needs a session of its own, which a transaction pooler does not keep. */
export function streamCheck(reached: Reached): Check | null {

    if (reached.config.database.kind !== 'postgres') {
        return null;
    }

    const listenUrl = reached.config.stream.listenUrl;
    if (listenUrl) {
        return ok('stream', `live streams listen for changes on DATABASE_LISTEN_URL (${new URL(listenUrl).host})`);
    }

    return pooled(reached).pooled ?
        warn('stream', 'DATABASE_URL goes through a pooler and DATABASE_LISTEN_URL is not set: LISTEN does not work through a transaction pooler, so live streams learn of changes only every SSE_CATCHUP_S seconds', 'set DATABASE_LISTEN_URL to a direct connection to the server') :
        ok('stream', 'live streams listen for changes on DATABASE_URL\'s server');
}
