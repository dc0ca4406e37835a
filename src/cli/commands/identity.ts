/**
 * `kontor identity create|list|rotate|revoke`: manage the identities that call the API. A new
 * key is printed once and never stored in clear.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadConfig, loadSecrets } from '../../config/index.ts';
import { IdentityService, resolveSecuritySecrets, type SecuritySecrets } from '../../identity/index.ts';
import { createLogger } from '../../observability/index.ts';
import { IDENTITY_KINDS, parseDuration, type IdentityKind } from '../../policy/index.ts';
import { openStore, type Db } from '../../store/index.ts';
import { ValidationError } from '../../domain/index.ts';
import { action } from '../run.ts';

/** The store and security secrets a command works with. */
export interface SecurityContext {
  db: Db;
  secrets: SecuritySecrets;
  /** Who the audit log names for CLI actions. */
  actor: string;
}

/** Opens the configured store and resolves the security secrets, runs `fn`, and closes the store. */
export async function withSecurityContext<T>(
  configPath: string | undefined,
  fn: (ctx: SecurityContext) => Promise<T>,
): Promise<T> {
  const { config } = loadConfig(configPath);
  const raw = loadSecrets(config.secretsFile);
  const dataDir = process.env.KONTOR_DATA_DIR || config.dataDir;
  // Warnings go to stderr so stdout stays clean for keys and JSONL.
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => void process.stderr.write(line) },
  });
  const secrets = resolveSecuritySecrets({ secrets: raw, dataDir, logger });
  const { db } = await openStore({ databaseUrl: raw.KONTOR_DATABASE_URL, dataDir });
  try {
    return await fn({ db, secrets, actor: `cli:${userInfo().username}` });
  } finally {
    await db.close();
  }
}

const list = (v: string | undefined): string[] => (v ?? '').split(/[\s,]+/).filter((s) => s !== '');

/** Registers `kontor identity …`. */
export function registerIdentity(program: Command): void {
  const identity = program
    .command('identity')
    .description('identities (people and systems) and their API keys');
  const configOf = (opts: { config?: string }) => opts.config ?? program.opts<{ config?: string }>().config;

  identity
    .command('create')
    .description('create an identity and print its API key (shown once)')
    .requiredOption('--name <name>', 'unique name, e.g. bank-adapter or jane.doe')
    .requiredOption('--kind <kind>', 'service (a system) or human (a person)')
    .requiredOption('--scopes <scopes>', 'comma-separated scopes, e.g. statements:write,events:read')
    .option('--roles <roles>', 'comma-separated roles (used by approval policies)')
    .option('--expires-in <duration>', 'key lifetime, e.g. 90d (at most 366d)', '90d')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(
        async (opts: {
          name: string;
          kind: string;
          scopes: string;
          roles?: string;
          expiresIn: string;
          config?: string;
        }) => {
          if (!(IDENTITY_KINDS as readonly string[]).includes(opts.kind)) {
            throw new ValidationError(`--kind must be service or human (got "${opts.kind}")`, [
              { path: 'kind', message: 'service | human' },
            ]);
          }
          await withSecurityContext(configOf(opts), async ({ db, secrets, actor }) => {
            const service = new IdentityService(db, secrets.apiKeyPepper);
            const { identity: created, key } = await service.create({
              name: opts.name,
              kind: opts.kind as IdentityKind,
              scopes: list(opts.scopes),
              roles: list(opts.roles),
              expiresInMs: parseDuration(opts.expiresIn, 'expires-in'),
              actor,
            });
            process.stdout.write(
              [
                `identity ${created.name} (${created.id}, ${created.kind}) created with scopes ${created.scopes.join(' ')}`,
                `key ${key.keyId} expires ${key.expiresAt.toISOString()}`,
                'API key (shown once; only its hash is stored):',
                key.apiKey,
                '',
              ].join('\n'),
            );
          });
        },
      ),
    );

  identity
    .command('list')
    .description('list identities and the state of their keys (never the keys)')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (opts: { json?: boolean; config?: string }) => {
        await withSecurityContext(configOf(opts), async ({ db, secrets }) => {
          const all = await new IdentityService(db, secrets.apiKeyPepper).list();
          if (opts.json === true) {
            process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
            return;
          }
          for (const i of all) {
            process.stdout.write(
              `${i.name}\t${i.kind}\t${i.disabledAt === null ? 'active' : 'revoked'}\t${i.scopes.join(',')}\n`,
            );
            for (const k of i.keys)
              process.stdout.write(
                `  ${k.id}\t${k.prefix}…\t${k.status}\texpires ${k.expiresAt.toISOString()}\n`,
              );
          }
        });
      }),
    );

  identity
    .command('rotate <name>')
    .description('issue a new key; current keys stay valid for the overlap window, then expire')
    .option('--overlap <duration>', 'how long the old key keeps working', '24h')
    .option('--expires-in <duration>', 'lifetime of the new key', '90d')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (name: string, opts: { overlap: string; expiresIn: string; config?: string }) => {
        await withSecurityContext(configOf(opts), async ({ db, secrets, actor }) => {
          const key = await new IdentityService(db, secrets.apiKeyPepper).rotate({
            nameOrId: name,
            overlapMs: parseDuration(opts.overlap, 'overlap'),
            expiresInMs: parseDuration(opts.expiresIn, 'expires-in'),
            actor,
          });
          process.stdout.write(
            [
              `new key ${key.keyId} for ${name} expires ${key.expiresAt.toISOString()}; old keys stop after ${opts.overlap}`,
              'API key (shown once):',
              key.apiKey,
              '',
            ].join('\n'),
          );
        });
      }),
    );

  identity
    .command('revoke <name>')
    .description('revoke one key (--key) or the whole identity, effective immediately')
    .option('--key <keyId>', 'revoke only this key')
    .option('-c, --config <file>', 'configuration file')
    .action(
      action(async (name: string, opts: { key?: string; config?: string }) => {
        await withSecurityContext(configOf(opts), async ({ db, secrets, actor }) => {
          const r = await new IdentityService(db, secrets.apiKeyPepper).revoke({
            nameOrId: name,
            keyId: opts.key,
            actor,
          });
          process.stdout.write(
            `${opts.key === undefined ? `identity ${name} revoked` : `key ${opts.key} revoked`} (${r.revokedKeys.length} key(s))\n`,
          );
        });
      }),
    );
}
