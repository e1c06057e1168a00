import Http from 'node:http';


/** One Server-Sent Event, or a comment line. */
export interface StreamEvent {
    id?: string;
    event?: string;
    data?: string;
    comment?: string;
}


export interface OpenStream {
    status: number;
    headers: Http.IncomingHttpHeaders;
    /** The body of an answer other than 200. */
    body: string;
    /** Every event and comment so far, in order. */
    events: StreamEvent[];
    /** The change events so far, their data parsed. */
    changes(): { id: string; change: any }[];
    /** Resolves with the first event (from the start) that matches, waiting for it; rejects if the stream ends first. */
    until(match: (event: StreamEvent) => boolean): Promise<StreamEvent>;
    /** Resolves when the server has ended the stream (or the connection dropped). */
    ended: Promise<void>;
    /** Stops reading: the socket's buffers fill and the server sees a client that does not read. */
    pause(): void;
    close(): void;
}


/** Opens GET /api/changes/stream (or `path`) over a real connection and parses what comes as it comes. */
export function openStream(uri: string, token: string, options: { since?: string; lastEventId?: string; path?: string } = {}): Promise<OpenStream> {

    const url = new URL(options.path ?? '/api/changes/stream', uri);
    if (options.since !== undefined) {
        url.searchParams.set('since', options.since);
    }

    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (options.lastEventId !== undefined) {
        headers['last-event-id'] = options.lastEventId;
    }

    return new Promise((resolve, reject) => {

        const request = Http.get(url, { headers, agent: false }, (response) => {

            const events: StreamEvent[] = [];
            const waiters: { match: (event: StreamEvent) => boolean; resolve: (event: StreamEvent) => void; reject: (err: Error) => void }[] = [];
            let buffer = '';
            let body = '';
            let done = false;
            let endedResolve: () => void = () => undefined;
            const ended = new Promise<void>((res) => (endedResolve = res));

            const finish = () => {

                if (done) {
                    return;
                }

                done = true;
                endedResolve();
                for (const waiter of waiters.splice(0)) {
                    waiter.reject(new Error(`the stream ended first; events: ${JSON.stringify(events.slice(-5))}`));
                }
            };

            const push = (event: StreamEvent) => {

                events.push(event);
                for (const waiter of [...waiters]) {
                    if (waiter.match(event)) {
                        waiters.splice(waiters.indexOf(waiter), 1);
                        waiter.resolve(event);
                    }
                }
            };

            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {

                if (response.statusCode !== 200) {
                    body += chunk;
                    return;
                }

                buffer += chunk;
                let at: number;
                while ((at = buffer.indexOf('\n\n')) !== -1) {
                    const block = buffer.slice(0, at);
                    buffer = buffer.slice(at + 2);
                    const event: StreamEvent = {};
                    for (const line of block.split('\n')) {
                        if (line.startsWith(':')) {
                            event.comment = line.slice(1).trim();
                            continue;
                        }

                        const colon = line.indexOf(':');
                        const field = line.slice(0, colon) as 'id' | 'event' | 'data';
                        event[field] = line.slice(colon + 1).replace(/^ /, '');
                    }

                    push(event);
                }
            });
            response.on('end', finish);
            response.on('close', finish);
            response.on('error', finish);
            request.on('stream-closed', finish);

            const stream: OpenStream = {
                status: response.statusCode!,
                headers: response.headers,
                get body() {

                    return body;
                },
                events,
                changes: () => events.filter((event) => event.event === 'change').map((event) => ({ id: event.id!, change: JSON.parse(event.data!) })),
                until(match) {

                    const seen = events.find(match);
                    if (seen) {
                        return Promise.resolve(seen);
                    }

                    if (done) {
                        return Promise.reject(new Error('the stream has ended'));
                    }

                    return new Promise((res, rej) => waiters.push({ match, resolve: res, reject: rej }));
                },
                ended,
                pause: () => response.pause(),
                close: () => request.destroy()
            };

            if (response.statusCode !== 200) {
                response.on('end', () => resolve(stream));
                return;
            }

            resolve(stream);
        });

        request.on('error', reject);
        request.on('close', () => request.emit('stream-closed'));
    });
}


/** A change event about this task (an upsert of it, or its delete). */
export const aboutTask = (id: string, op?: 'upsert' | 'delete') => {

    return (event: StreamEvent) => {

        if (event.event !== 'change') {
            return false;
        }

        const change = JSON.parse(event.data!);
        return (change.task?.id ?? change.id) === id && (op === undefined || change.op === op);
    };
};
