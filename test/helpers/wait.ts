/**
 * Waits until `check` answers true (or a value other than false/undefined), asking every `everyMs`; fails naming
 * what it waited for when that has not happened within `withinMs`. For waiting on something a test can observe (a
 * lock wait, a line of output, a connection closed) instead of sleeping for a while and hoping it happened.
 */
export async function waitFor<T>(what: string, check: () => T | false | undefined | Promise<T | false | undefined>, options: { withinMs?: number; everyMs?: number } = {}): Promise<T> {

    const { withinMs = 10_000, everyMs = 10 } = options;
    const deadline = performance.now() + withinMs;
    for (;;) {
        const value = await check();
        if (value !== false && value !== undefined) {
            return value;
        }

        if (performance.now() > deadline) {
            throw new Error(`Waited ${withinMs} ms for ${what}`);
        }

        await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
}
