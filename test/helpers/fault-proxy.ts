import Net from 'node:net';


/**
 * A TCP proxy between the service and PostgreSQL that can fail the way networks and databases do: every
 * connection cut (a database gone), every byte held (a stalled network, a hung server), or one connection cut just
 * after a chosen statement went through, before its answer comes back.
 */
export interface FaultProxy {
    port: number;
    /** The database URL, through the proxy. */
    url: string;
    /** How many connections are open through it now. */
    connections(): number;
    /** Closes every connection and resets each new one at once, until restore(). */
    cut(): void;
    /** Holds every byte, both ways, on every connection, old and new, until restore(). */
    stall(): void;
    /** Passes bytes again; held ones go first. */
    restore(): void;
    /**
     * Cuts the connection that carries the next client message matching `match`, once that message has gone on to
     * the database and before anything comes back; resolves when it has.
     */
    cutAfter(match: RegExp): Promise<void>;
    close(): Promise<void>;
}


interface Link {
    client: Net.Socket;
    server: Net.Socket;
    held: { toServer: Buffer[]; toClient: Buffer[] };
    doomed: boolean;
}


export async function startFaultProxy(databaseUrl: string): Promise<FaultProxy> {

    const target = new URL(databaseUrl);
    const links = new Set<Link>();
    // The database side of connections cut after a statement: open until the statement's answer comes back.
    const answering = new Set<Net.Socket>();
    let mode: 'pass' | 'cut' | 'stall' = 'pass';
    let pendingCut: { match: RegExp; done: () => void } | null = null;

    const destroy = (link: Link) => {

        link.client.destroy();
        link.server.destroy();
        links.delete(link);
    };

    const proxy = Net.createServer((client) => {

        if (mode === 'cut') {
            client.resetAndDestroy();
            return;
        }

        const server = Net.connect(Number(target.port || 5432), target.hostname);
        const link: Link = { client, server, held: { toServer: [], toClient: [] }, doomed: false };
        links.add(link);

        client.on('data', (chunk) => {

            if (mode === 'stall') {
                link.held.toServer.push(chunk);
                return;
            }

            server.write(chunk);
            if (pendingCut && pendingCut.match.test(chunk.toString('latin1'))) {
                // The statement is on its way; the answer never arrives.
                const { done } = pendingCut;
                pendingCut = null;
                link.doomed = true;
                // The database side stays open until the answer comes, so that the statement is read and runs to its end.
                answering.add(server);
                setImmediate(() => {

                    client.resetAndDestroy();
                    links.delete(link);
                    done();
                });
            }
        });

        server.on('data', (chunk) => {

            if (link.doomed) {
                answering.delete(server);
                server.destroy();
                return;
            }

            if (mode === 'stall') {
                link.held.toClient.push(chunk);
                return;
            }

            client.write(chunk);
        });

        const end = () => destroy(link);
        client.on('error', end);
        server.on('error', end);
        client.on('close', end);
        server.on('close', () => {

            if (!link.doomed) {
                end();
            }
        });
    });

    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as Net.AddressInfo;
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(port);

    return {
        port,
        url: url.toString(),
        connections: () => links.size,
        cut() {

            mode = 'cut';
            for (const link of links) {
                link.client.resetAndDestroy();
                destroy(link);
            }
        },
        stall() {

            mode = 'stall';
        },
        restore() {

            mode = 'pass';
            for (const link of links) {
                for (const chunk of link.held.toServer.splice(0)) {
                    link.server.write(chunk);
                }

                for (const chunk of link.held.toClient.splice(0)) {
                    link.client.write(chunk);
                }
            }
        },
        cutAfter(match) {

            return new Promise((resolve) => {

                pendingCut = { match, done: resolve };
            });
        },
        async close() {

            for (const link of links) {
                destroy(link);
            }

            for (const server of answering) {
                server.destroy();
            }

            await new Promise<void>((resolve) => proxy.close(() => resolve()));
        }
    };
}
