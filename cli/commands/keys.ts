import Crypto from 'node:crypto';
import Fs from 'node:fs';
import Path from 'node:path';

import type { Command } from 'commander';

import type { Io } from '../io';
import { CliError, exitCodes } from '../io';


interface GenerateOptions {
    outDir: string;
    kid?: string;
    force?: boolean;
    json?: boolean;
}


export function keysCommand(program: Command, io: Io): void {

    const keys = program.command('keys')
        .description('Signing keys for testing the JWKS setup')
        .addHelpText('after', `
Example:
  todo-admin keys generate --out-dir ./keys`);

    keys.command('generate')
        .description('Write an Ed25519 key pair: a private JWK to sign with, and the public JWKS document to serve')
        .option('--out-dir <dir>', 'where to write signing.jwk and jwks.json', '.')
        .option('--kid <kid>', 'the key id (default: a random one)')
        .option('--force', 'replace files that exist')
        .option('--json', 'print the file names and kid as JSON')
        .addHelpText('after', `
Example:
  todo-admin keys generate --out-dir ./keys
  # serve ./keys/jwks.json at BETTER_AUTH_JWKS_URL, then:
  todo-admin mint-token --user alice@example.com --key ./keys/signing.jwk`)
        .action((options: GenerateOptions) => {

            const kid = options.kid ?? Crypto.randomBytes(12).toString('base64url');
            const privateFile = Path.resolve(options.outDir, 'signing.jwk');
            const publicFile = Path.resolve(options.outDir, 'jwks.json');

            for (const file of [privateFile, publicFile]) {
                if (Fs.existsSync(file) && !options.force) {
                    throw new CliError(`${file} exists; --force replaces it`, exitCodes.usage);
                }
            }

            const { privateKey, publicKey } = Crypto.generateKeyPairSync('ed25519');

            // As Better Auth publishes its keys: kty, crv, x, alg and kid, with no `use`.
            const jwk = { ...publicKey.export({ format: 'jwk' }), alg: 'EdDSA', kid };
            Fs.mkdirSync(options.outDir, { recursive: true });
            Fs.writeFileSync(privateFile, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), alg: 'EdDSA', kid }, null, 2) + '\n', { mode: 0o600 });
            Fs.chmodSync(privateFile, 0o600);               // Also when --force replaced a file that was readable.
            Fs.writeFileSync(publicFile, JSON.stringify({ keys: [jwk] }, null, 2) + '\n');

            io.out(options.json ?
                JSON.stringify({ kid, privateKey: privateFile, jwks: publicFile }) + '\n' :
                `Wrote ${privateFile} (private: keep it secret) and ${publicFile} (public key set), kid ${kid}\n`);
        });
}
