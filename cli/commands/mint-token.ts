import Fs from 'node:fs';
import Os from 'node:os';

import type { Command } from 'commander';

import { isProduction, parseAuthConfig, parseExpectedClaims, parseTokenLifetime, withDevelopmentSecret } from '../../src/config';
import { mintToken, signingKeyFromJwk } from '../../src/auth/tokens';
import type { SigningKey } from '../../src/auth/tokens';
import { userStore } from '../../src/data/users';
import { parseDuration } from '../duration';
import { withDatabase } from '../database';
import type { Io } from '../io';
import { CliError, configured, exitCodes } from '../io';


interface MintOptions {
    user: string;
    key?: string;
    ttl: string;
    claim: string;
    issuer?: string;
    audience?: string;
    json?: boolean;
    allowProduction?: boolean;
}


const internals = {
    /** Who ran the command, for the record of a production token. */
    operator(): string {

        try {
            return `${Os.userInfo().username}@${Os.hostname()}`;
        }
        catch {
            return `uid ${process.getuid?.() ?? 'unknown'}@${Os.hostname()}`;
        }
    }
};


function readSigningKey(file: string): SigningKey {

    let jwk: unknown;
    try {
        jwk = JSON.parse(Fs.readFileSync(file, 'utf8'));
    }
    catch (err) {
        throw new CliError(`--key ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a JSON file'}`, exitCodes.usage);
    }

    try {
        return signingKeyFromJwk(jwk as Parameters<typeof signingKeyFromJwk>[0]);
    }
    catch (err) {
        throw new CliError(`--key ${file}: ${(err as Error).message}`, exitCodes.usage);
    }
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
        .description('Print a bearer token the server accepts (HS256 with BETTER_AUTH_SECRET, or signed with a private JWK)')
        .requiredOption('--user <id|email>', 'the user: an id as is, or an email looked up in users')
        .option('--ttl <duration>', 'lifetime: 90, 15m, 1h, 7d', '1h')
        .option('--claim <claim>', 'claim carrying the user id: user_id or sub', 'user_id')
        .option('--key <file>', 'sign with this private JWK (see todo-admin keys generate), as Better Auth does')
        .option('--issuer <iss>', 'iss claim (default: JWT_ISSUER; with --key, else BETTER_AUTH_URL)')
        .option('--audience <aud>', 'aud claim (default: JWT_AUDIENCE; with --key, else BETTER_AUTH_URL)')
        .option('--json', 'print {token, user_id, expires_at}')
        .option('--allow-production', 'mint under NODE_ENV=production too (the token, its user and lifetime are logged to stderr)')
        .addHelpText('after', `
--ttl is at most JWT_MAX_LIFETIME_S (a day by default): the server refuses tokens that live longer.

Examples:
  todo-admin mint-token --user alice@example.com
  todo-admin mint-token --user demo-bob --claim sub --key ./keys/signing.jwk
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

            const maxLifetimeSec = configured(() => parseTokenLifetime(io.env));
            if (ttlSec > maxLifetimeSec) {
                throw new CliError(`--ttl ${options.ttl} is longer than the ${maxLifetimeSec} s a token may live (JWT_MAX_LIFETIME_S): the server would refuse it`, exitCodes.usage);
            }

            // Signing with a private key needs no shared secret; the claims expected of tokens still apply. On a
            // development machine, the secret is the one the server uses too.
            const auth = configured(() => (options.key ? { secret: null, ...parseExpectedClaims(io.env) } : parseAuthConfig(withDevelopmentSecret(io.env).env)));
            const signingKey = options.key ? readSigningKey(options.key) : undefined;

            // A token for any user is a key to that user's tasks: in production it is minted only on purpose, and said.
            const production = isProduction(io.env);
            if (production && !options.allowProduction) {
                throw new CliError('NODE_ENV is production: a token minted here opens that user\'s real tasks; add --allow-production to mint one anyway', exitCodes.usage);
            }

            const userId = await resolveUserId(io, options.user.trim());
            const minted = mintToken(auth, {
                userId,
                ttlSec: Math.round(ttlSec),
                claim: options.claim,
                issuer: options.issuer,
                audience: options.audience,
                signingKey
            });

            if (production) {
                io.err(`todo-admin: minted a production token for user ${JSON.stringify(minted.userId)}, valid ${Math.round(ttlSec)} s until ${minted.expiresAt.toISOString()}, by ${internals.operator()}\n`);
            }

            io.out(options.json ?
                JSON.stringify({ token: minted.token, user_id: minted.userId, expires_at: minted.expiresAt.toISOString() }) + '\n' :
                minted.token + '\n');
        });
}
