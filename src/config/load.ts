/**
 * Loads `kontor.yaml` once at boot: YAML syntax errors and schema errors both come back as one
 * ConfigError whose issues name the key path and, where known, the line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { AppError, ErrorCodes, type FieldIssue } from '../domain/index.ts';
import { configSchema, SECRET_KEY_PATTERN, type KontorConfig } from './schema.ts';

/** A configuration that cannot be used; `issues` name each key and problem. */
export class ConfigError extends AppError {
  readonly issues: FieldIssue[];
  readonly file: string | undefined;

  constructor(file: string | undefined, issues: FieldIssue[]) {
    const where = file ?? 'configuration';
    const lines = issues.map(
      (i) => `  ${i.line === undefined ? '' : `line ${i.line}: `}${i.path}: ${i.message}`,
    );
    super(ErrorCodes.CONFIG_INVALID, `${where} is invalid:\n${lines.join('\n')}`, {
      details: { file, issues },
    });
    this.name = 'ConfigError';
    this.issues = issues;
    this.file = file;
  }
}

export interface LoadedConfig {
  config: KontorConfig;
  /** The file read, or undefined for the built-in demo defaults. */
  file: string | undefined;
}

function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number | undefined {
  // Walk up to the deepest node that exists (a missing key is reported at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

function findSecretKeys(node: unknown, path: (string | number)[], out: (string | number)[][]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (SECRET_KEY_PATTERN.test(key)) out.push([...path, key]);
      findSecretKeys(pair.value, [...path, key], out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => findSecretKeys(item, [...path, i], out));
  }
}

/** Parses and validates configuration text; `file` is only used in messages and for relative paths. */
export function parseConfig(text: string, file?: string): KontorConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: '(yaml)',
        message: e.message.split('\n')[0] ?? e.message,
        line: e.linePos?.[0].line,
      })),
    );
  }
  const secretKeys: (string | number)[][] = [];
  findSecretKeys(doc.contents, [], secretKeys);
  if (secretKeys.length > 0) {
    throw new ConfigError(
      file,
      secretKeys.map((p) => ({
        path: p.join('.'),
        message: 'secrets do not belong in kontor.yaml: set them in the environment or the secrets file',
        line: lineOf(doc, counter, p),
      })),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        return { path: path.join('.') || '(root)', message: issue.message, line: lineOf(doc, counter, path) };
      }),
    );
  }
  const config = result.data;
  if (file !== undefined) {
    // Relative paths in the file are relative to the file, not to the working directory.
    const base = dirname(resolve(file));
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
    config.dataDir = abs(config.dataDir);
    if (config.secretsFile !== undefined) config.secretsFile = abs(config.secretsFile);
    for (const account of config.bankAccounts) {
      if (account.inbox !== undefined) account.inbox = abs(account.inbox);
      if (account.outbox !== undefined) account.outbox = abs(account.outbox);
      if (account.sftp?.privateKeyFile !== undefined)
        account.sftp.privateKeyFile = abs(account.sftp.privateKeyFile);
    }
  }
  return config;
}

/**
 * Finds and loads the configuration: `--config`, then KONTOR_CONFIG, then ./kontor.yaml; with
 * none of them, the built-in demo defaults (embedded database, sandbox Odoo).
 */
export function loadConfig(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  const path = explicitPath ?? env.KONTOR_CONFIG ?? (existsSync('kontor.yaml') ? 'kontor.yaml' : undefined);
  if (path === undefined) {
    return { config: parseConfig(DEMO_CONFIG), file: undefined };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [
      {
        path: '(file)',
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
  return { config: parseConfig(text, path), file: resolve(path) };
}

/** The demo configuration used when no file is given: one company and its EUR account in the sandbox Odoo. */
export const DEMO_CONFIG = `
entities:
  - id: demo
    name: Kontor Demo GmbH
    country: DE
    baseCurrency: EUR
    odooCompanyId: 1
bankAccounts:
  - id: demo-eur
    entity: demo
    iban: DE89370400440532013000
    currency: EUR
    odooJournal: BNK1
`;

/** Reads KEY=VALUE lines of a secrets file (comments with #); the environment wins over it. */
export function loadSecrets(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const secrets: Record<string, string> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(file, [
        {
          path: 'secretsFile',
          message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        },
      ]);
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const eq = trimmed.indexOf('=');
      if (eq <= 0)
        throw new ConfigError(file, [{ path: '(secrets)', message: 'expected KEY=VALUE', line: i + 1 }]);
      secrets[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
    });
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) secrets[k] = v;
  return secrets;
}
