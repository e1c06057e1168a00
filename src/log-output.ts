import Fs from 'node:fs';


/** Where the logger's lines go: gathered, and written to a file descriptor a batch at a time. */
export interface LineOutput {
    write(line: string): void;
    /** Writes what is gathered now (pino's logger.flush calls it with a callback). */
    flush(done?: (err?: Error) => void): void;
}


export interface LineOutputOptions {
    /** The longest a line waits to be written. */
    flushMs: number;
}


const internals = {
    // PIPE_BUF on Linux: a write of at most this many bytes to a pipe goes in whole, never mixed with another
    // process's write, so the workers' lines on a shared standard output do not cut into each other.
    batchBytes: 4096,

    // A full pipe (a log collector that reads slowly) is waited for, as a synchronous write would: lines are not
    // dropped and memory does not grow.
    fullRetryMs: 10,
    sleeper: new Int32Array(new SharedArrayBuffer(4)),

    sleep(ms: number): void {

        Atomics.wait(internals.sleeper, 0, 0, ms);
    },

    /** Writes all of data, waiting while the descriptor cannot take more (EAGAIN on a non-blocking pipe). */
    writeAll(fd: number, data: Buffer): void {

        let offset = 0;
        while (offset < data.length) {
            try {
                offset += Fs.writeSync(fd, data, offset);
            }
            catch (err) {
                if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
                    throw err;
                }

                internals.sleep(internals.fullRetryMs);
            }
        }
    }
};


/**
 * Lines gathered into batches of at most 4 KB, each written with one synchronous system call: when the next line
 * would not fit, and at the latest flushMs after the first line of a batch. A line is kept as the string it came as
 * until its batch is joined and written: the cost per line is one push and its byte count. A closed output (EPIPE)
 * ends the writing; any other failure is thrown to the line's writer, as a synchronous write's would be.
 */
export function lineOutput(fd: number, { flushMs }: LineOutputOptions): LineOutput {

    let lines: string[] = [];
    let bytes = 0;
    let closed = false;

    const flushSync = () => {

        if (!lines.length) {
            return;
        }

        const text = lines.length === 1 ? lines[0] : lines.join('');
        const size = bytes;
        lines = [];
        bytes = 0;
        if (closed) {
            return;
        }

        try {
            // The string at once (the usual case), the rest as bytes when the descriptor took only part of it or none.
            let written = 0;
            try {
                written = Fs.writeSync(fd, text);
            }
            catch (err) {
                if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
                    throw err;
                }
            }

            if (written < size) {
                internals.writeAll(fd, Buffer.from(text).subarray(written));
            }
        }
        catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EPIPE') {
                throw err;
            }

            closed = true;
        }
    };

    setInterval(flushSync, flushMs).unref();
    process.once('exit', flushSync);

    return {
        write(line) {

            const size = Buffer.byteLength(line);
            if (bytes + size > internals.batchBytes) {
                flushSync();
            }

            lines.push(line);
            bytes += size;
        },

        flush(done) {

            try {
                flushSync();
            }
            catch (err) {
                done?.(err as Error);
                return;
            }

            done?.();
        }
    };
}
