import Fs from 'node:fs';
import Os from 'node:os';
import Path from 'node:path';

import test from 'ava';

import { readConfig } from '../../src/config';
import { testSecret } from '../helpers/api';


// readConfig() reads .env from the working directory: this file's tests move into a directory of their own, and
// put back the working directory and the variables they touched.
const touched = ['BETTER_AUTH_SECRET', 'LOG_LEVEL', 'PORT', 'MAX_TASKS_PER_USER'];

test.serial('readConfig() takes .env from the working directory; a variable set in the environment wins over it', (t) => {

    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), 'todo-env-'));
    const cwd = process.cwd();
    const saved = Object.fromEntries(touched.map((name) => [name, process.env[name]]));
    t.teardown(() => {

        process.chdir(cwd);
        for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) {
                delete process.env[name];
            }
            else {
                process.env[name] = value;
            }
        }

        Fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const name of touched) {
        delete process.env[name];
    }

    Fs.writeFileSync(Path.join(dir, '.env'), `BETTER_AUTH_SECRET=${testSecret}\nLOG_LEVEL=warn\nPORT=9123\nMAX_TASKS_PER_USER=77\n`);
    process.env.PORT = '9000';
    process.chdir(dir);

    const config = readConfig();
    t.is(config.logLevel, 'warn', 'from .env');
    t.is(config.limits.maxTasksPerUser, 77, 'from .env');
    t.is(config.port, 9000, 'the environment wins');
    t.is(process.env.PORT, '9000');
});
