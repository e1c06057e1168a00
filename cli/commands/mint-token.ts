import type { Command } from 'commander';

import { parseAuthConfig } from '../../src/config';
import { mintToken } from '../../src/auth/tokens';
import { userStore } from '../../src/data/users';
import { parseDuration } from '../duration';
import { withDatabase } from '../database';
import type { Io } from '../io';
import { CliError, configured, exitCodes } from '../io';


interface MintOptions {
    user: string;
    ttl: string;
    claim: string;
    issuer?: string;
    audience?: string;
    json?: boolean;
}


async function resolveUserId(io: Io, user: string): Promise<string> {

    if (!user.includes('@')) {
        return user;
    }

    return await withDatabase(io, async (db) => {

        const found = await userStore(db).findUserByEmail(user);
        if (!found) {
            throw new CliError(`no user with email ${user} (todo-admin users list shows them)`, exitCodes.usage);
        }

        return found.id;
    });
}


export function mintTokenCommand(program: Command, io: Io): void {

    program.command('mint-token')
        .description('Print a bearer token the server accepts (HS256 with BETTER_AUTH_SECRET)')
        .requiredOption('--user <id|email>', 'the user: an id as is, or an email looked up in users')
        .option('--ttl <duration>', 'lifetime: 90, 15m, 1h, 7d', '1h')
        .option('--claim <claim>', 'claim carrying the user id: user_id or sub', 'user_id')
        .option('--issuer <iss>', 'iss claim (default: JWT_ISSUER)')
        .option('--audience <aud>', 'aud claim (default: JWT_AUDIENCE)')
        .option('--json', 'print {token, user_id, expires_at}')
        .addHelpText('after', `
Examples:
  todo-admin mint-token --user alice@example.com
  curl -H "Authorization: Bearer $(todo-admin mint-token --user demo-bob --ttl 15m)" http://127.0.0.1:8000/api/tasks`)
        .action(async (options: MintOptions) => {

            const ttlSec = parseDuration(options.ttl);
            if (ttlSec === null || ttlSec < 1) {
                throw new CliError(`--ttl must be a duration such as 90, 15m, 1h or 7d, not "${options.ttl}"`, exitCodes.usage);
            }

            if (options.claim !== 'user_id' && options.claim !== 'sub') {
                throw new CliError(`--claim must be user_id or sub, not "${options.claim}"`, exitCodes.usage);
            }

            if (!options.user.trim()) {
                throw new CliError('--user must not be empty', exitCodes.usage);
            }

            const auth = configured(() => parseAuthConfig(io.env));
            const userId = await resolveUserId(io, options.user.trim());
            const minted = mintToken(auth, {
                userId,
                ttlSec: Math.round(ttlSec),
                claim: options.claim,
                issuer: options.issuer,
                audience: options.audience
            });

            io.out(options.json ?
                JSON.stringify({ token: minted.token, user_id: minted.userId, expires_at: minted.expiresAt.toISOString() }) + '\n' :
                minted.token + '\n');
        });
}
