/**
 * The schema of `kontor.yaml`: legal entities, bank accounts mapped to Odoo journals, connector
 * settings and schedules. Secrets are never part of it: they come from the environment or a
 * secrets file.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { bicSchema, ibanSchema, isCurrencyCode } from '../domain/index.ts';
import { csvProfileSchema } from '../formats/csv/profile.ts';
import { reconciliationRulesSchema } from '../flows/reconciliation/rules.ts';
import { approvalPolicySchema } from '../policy/approval/index.ts';

const id = z.string().regex(/^[a-z0-9][a-z0-9-_]*$/, 'use lower-case letters, digits, "-" and "_"');
const currency = z.string().refine(isCurrencyCode, 'expected an active ISO 4217 currency code such as EUR');

/** Keys that would hold secrets; a config that contains them is refused. */
export const SECRET_KEY_PATTERN = /(password|passwd|secret|api[_-]?key|token|private[_-]?key)$/i;

const entitySchema = z.strictObject({
  id,
  name: z.string().min(1),
  country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 code such as DE'),
  baseCurrency: currency,
  odooCompanyId: z.number().int().positive().optional(),
});

/** An SFTP bank channel: released payment files are uploaded here instead of (besides) the folder. */
const sftpChannelSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  /** Remote directory the files are uploaded to. */
  path: z.string().min(1),
  /**
   * SHA-256 fingerprint of the server's host key as `ssh-keygen -lf` prints it (`SHA256:…`); a server
   * with another key is refused, so a man in the middle never receives a payment file.
   */
  hostKeySha256: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'expected SHA256:<43 base64 characters>'),
  /** OpenSSH private key file; without it the password comes from KONTOR_SFTP_PASSWORD_<ACCOUNT_ID>. */
  privateKeyFile: z.string().min(1).optional(),
});

const bankAccountSchema = z
  .strictObject({
    id,
    entity: id,
    iban: ibanSchema.optional(),
    accountNumber: z.string().min(1).optional(),
    bic: bicSchema.optional(),
    currency,
    /** Odoo bank journal, by code (e.g. BNK1) or numeric id. */
    odooJournal: z.union([z.string().min(1), z.number().int().positive()]),
    /** Folder watched for statement files of this account (optional). */
    inbox: z.string().min(1).optional(),
    /** Bank channel folder that released pain.001 files are written to; default `<dataDir>/outbox/<id>`. */
    outbox: z.string().min(1).optional(),
    /** pain.001 version this bank reads; .03 for banks that still need it. */
    painVersion: z.enum(['pain.001.001.09', 'pain.001.001.03']).default('pain.001.001.09'),
    /** SFTP channel of the bank; released files are uploaded there. */
    sftp: sftpChannelSchema.optional(),
    /** How this bank's CSV statements map onto statement lines (only needed for CSV). */
    csvProfile: csvProfileSchema.optional(),
  })
  .refine((a) => a.iban !== undefined || a.accountNumber !== undefined, {
    message: 'a bank account needs an iban or an accountNumber',
    path: ['iban'],
  });

const odooSchema = z.strictObject({
  /** Base URL of the Odoo server; unset (and no ODOO_URL) = the built-in sandbox. */
  url: z.url().optional(),
  database: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  /** Force the protocol instead of choosing it from the server version. */
  protocol: z.enum(['auto', 'jsonrpc', 'json2']).default('auto'),
  batchSize: z.number().int().min(1).max(5000).default(200),
  requestsPerSecond: z.number().positive().default(10),
  burst: z.number().int().positive().default(20),
  timeoutMs: z.number().int().positive().default(30_000),
});

const scheduleSchema = z.strictObject({
  name: id,
  /** Cron expression (5 or 6 fields), evaluated in `timezone`. */
  cron: z.string().refine((c) => {
    try {
      new Cron(c, { paused: true }).stop();
      return true;
    } catch {
      return false;
    }
  }, 'not a valid cron expression'),
  timezone: z.string().default('UTC'),
  task: z.string().min(1),
});

/** The whole configuration file. */
export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8420),
        bodyLimitBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
      })
      .prefault({}),
    /** Directory of the embedded database and other local state. */
    dataDir: z.string().min(1).default('./.kontor'),
    /** File of KEY=VALUE secrets, read at start (the environment wins). */
    secretsFile: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    entities: z.array(entitySchema).default([]),
    bankAccounts: z.array(bankAccountSchema).default([]),
    odoo: odooSchema.prefault({}),
    schedules: z.array(scheduleSchema).default([]),
    /** Matching rules, tolerances and the auto-reconcile threshold (src/flows/reconciliation/README.md). */
    reconciliation: z.strictObject({ rules: reconciliationRulesSchema.prefault({}) }).prefault({}),
    /** Payment approval rules (bands, risk signals, approval lifetime); see kontor.example.yaml. */
    approvalPolicy: approvalPolicySchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = (list: { id: string }[], key: 'entities' | 'bankAccounts') => {
      const ids = new Set<string>();
      list.forEach((item, i) => {
        if (ids.has(item.id))
          ctx.addIssue({ code: 'custom', path: [key, i, 'id'], message: `duplicate id "${item.id}"` });
        ids.add(item.id);
      });
      return ids;
    };
    const entityIds = seen(config.entities, 'entities');
    seen(config.bankAccounts, 'bankAccounts');
    const ibans = new Set<string>();
    config.bankAccounts.forEach((account, i) => {
      if (!entityIds.has(account.entity)) {
        ctx.addIssue({
          code: 'custom',
          path: ['bankAccounts', i, 'entity'],
          message: `unknown entity "${account.entity}" (declared entities: ${[...entityIds].join(', ') || 'none'})`,
        });
      }
      if (account.iban !== undefined) {
        if (ibans.has(account.iban))
          ctx.addIssue({
            code: 'custom',
            path: ['bankAccounts', i, 'iban'],
            message: 'the same IBAN is configured twice',
          });
        ibans.add(account.iban);
      }
    });
    const names = new Set<string>();
    config.schedules.forEach((s, i) => {
      if (names.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', i, 'name'],
          message: `duplicate schedule "${s.name}"`,
        });
      names.add(s.name);
    });
  });

export type KontorConfig = z.output<typeof configSchema>;
export type EntityConfig = KontorConfig['entities'][number];
export type BankAccountConfig = KontorConfig['bankAccounts'][number];
