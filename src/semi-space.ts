/**
 * The size of V8's young generation in the server's processes (V8_SEMI_SPACE_MB). Node takes it as a flag when it
 * starts, `--max-semi-space-size`, and a running process cannot change it: `npm start` passes the variable to the
 * node it starts, and the primary of WEB_CONCURRENCY workers passes the configured value to each worker it forks.
 */


const internals = {
    flagRx: /^--max[-_]semi[-_]space[-_]size(?:=(.*))?$/
};


/** Node's flags with the semi-space size set to `mb`, every other setting of it taken out. */
export function withSemiSpace(execArgv: readonly string[], mb: number): string[] {

    const kept: string[] = [];
    for (let i = 0; i < execArgv.length; ++i) {
        const match = internals.flagRx.exec(execArgv[i]);
        if (!match) {
            kept.push(execArgv[i]);
        }
        else if (match[1] === undefined) {
            ++i;                                        // `--max-semi-space-size 16`: the value is the next argument.
        }
    }

    return [...kept, `--max-semi-space-size=${mb}`];
}


/**
 * The semi-space size in MB that node was started with: the last setting on its command line, else the last in
 * NODE_OPTIONS (the command line wins); null when neither sets it (V8 then sizes it itself).
 */
export function semiSpaceInEffect(execArgv: readonly string[], nodeOptions: string | undefined): number | null {

    const last = (args: readonly string[]) => {

        let found: number | null = null;
        for (let i = 0; i < args.length; ++i) {
            const match = internals.flagRx.exec(args[i]);
            if (match) {
                const value = match[1] ?? args[++i];
                found = /^\d+$/.test(value ?? '') ? Number(value) : found;
            }
        }

        return found;
    };

    return last(execArgv) ?? last(nodeOptions?.trim().split(/\s+/) ?? []);
}
