import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';


const internals = {
    // What Node's parser and timers report, answered in the API's error shape instead of Node's bodiless status line.
    answers: {
        HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request line and headers are larger than the limit'],
        ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request took too long to arrive'],
        default: [400, 'Bad Request', 'The request is not valid HTTP']
    } as Record<string, [number, string, string]>,

    responses: new Map<string, Buffer>(),
    lingerMs: 1000,

    response(code: string): Buffer {

        const key = internals.answers[code] ? code : 'default';
        let response = internals.responses.get(key);
        if (!response) {
            const [status, reason, detail] = internals.answers[key];
            const body = JSON.stringify({ detail });
            response = Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n` +
                'Content-Type: application/json; charset=utf-8\r\n' +
                `Content-Length: ${Buffer.byteLength(body)}\r\n` +
                'Cache-Control: no-store\r\n' +
                'Connection: close\r\n\r\n' +
                body);
            internals.responses.set(key, response);
        }

        return response;
    }
};


/**
 * Answers requests that never become hapi requests (headers over the limit, a client too slow to send them, bytes
 * that are not HTTP) with `{"detail": ...}` like every other error, in place of hapi's bare `400` status line.
 */
export function answerClientErrors(listener: HttpServer, log: (err: Error) => void): void {

    listener.removeAllListeners('clientError');
    listener.on('clientError', (err: Error & { code?: string }, socket: Socket) => {

        // A client that hangs up (every load generator at its end, every browser tab closed mid-request) is not news.
        if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
            socket.destroy();
            return;
        }

        log(err);

        // Nothing written yet: a response of ours cannot interleave with one already under way on this connection.
        if (!socket.writable || socket.bytesWritten !== 0) {
            socket.destroy();
            return;
        }

        // Closed once the answer is out, or after a moment if the client does not take it.
        socket.setTimeout(internals.lingerMs, () => socket.destroy());
        socket.end(internals.response(err.code ?? ''), () => socket.destroy());
    });
}
