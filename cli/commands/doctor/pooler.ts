import type { Check, Reached } from './check';
import { ok } from './check';


const internals = {
    poolerHosts: /-pooler\.|pooler\.supabase\.com$|\.pooler\./i
};


/** Whether DATABASE_URL goes through a pooler or proxy: a pooler's host name, or a port the server does not listen on. */
export function pooled({ config, facts }: Reached): { pooled: boolean; urlPort: number } {

    if (config.database.kind !== 'postgres') {
        return { pooled: false, urlPort: 0 };
    }

    const url = new URL(config.database.url);
    const urlPort = Number(url.port || 5432);
    return { pooled: internals.poolerHosts.test(url.hostname) || (facts.serverPort !== null && facts.serverPort !== urlPort), urlPort };
}


/** PostgreSQL only: an embedded database has no pooler in front. */
export function poolerCheck(reached: Reached): Check | null {

    if (reached.config.database.kind !== 'postgres') {
        return null;
    }

    const { pooled: through, urlPort } = pooled(reached);
    return ok('pooler', through ?
        `through a pooler or proxy (DATABASE_URL's port ${urlPort} reaches a server on ${reached.facts.serverPort ?? 'a socket'}): transaction pooling is supported` :
        'a direct connection to the server');
}
