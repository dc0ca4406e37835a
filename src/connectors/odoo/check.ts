/** `kontor odoo check`: connect, report version, companies and bank journals, and map configured bank accounts to journals. */
import { maskIban } from '../../domain/index.ts';
import { type OdooBankJournal, OdooClient, type OdooCompany } from './client.ts';
import { startSandboxOdoo } from './sandbox/index.ts';
import type { OdooCredentials, OdooTransportOptions } from './transport.ts';

/** A bank account from Kontor's configuration that should book into an Odoo bank journal. */
export interface ConfiguredBankAccount {
  iban: string;
  currency: string;
}

/** Whether one configured bank account maps to a journal, and why not when it does not. */
export interface JournalMapping {
  account: ConfiguredBankAccount;
  journal: OdooBankJournal | undefined;
  problem: string | undefined;
}

/** What `kontor odoo check` found. */
export interface OdooCheckReport {
  target: string;
  version: string;
  protocol: string;
  companies: Array<{ company: OdooCompany; journals: OdooBankJournal[] }>;
  mappings: JournalMapping[];
}

const normalise = (value: string): string => value.replace(/[\s-]+/g, '').toUpperCase();

/** Maps each configured bank account to the bank journal holding the same IBAN in the same currency. */
export function mapBankAccountsToJournals(
  accounts: readonly ConfiguredBankAccount[],
  journals: readonly OdooBankJournal[],
): JournalMapping[] {
  return accounts.map((account) => {
    const iban = normalise(account.iban);
    const candidates = journals.filter(
      (j) => j.accountNumber !== undefined && normalise(j.accountNumber) === iban,
    );
    if (candidates.length === 0)
      return { account, journal: undefined, problem: 'no Odoo bank journal has this IBAN' };
    if (candidates.length > 1) {
      return {
        account,
        journal: undefined,
        problem: `${candidates.length} journals have this IBAN (${candidates.map((j) => j.code).join(', ')})`,
      };
    }
    const journal = candidates[0]!;
    if (journal.currency !== account.currency.toUpperCase()) {
      return {
        account,
        journal,
        problem: `journal ${journal.code} books in ${journal.currency}, the account is in ${account.currency}`,
      };
    }
    return { account, journal, problem: undefined };
  });
}

/** Reads ODOO_URL, ODOO_DB, ODOO_USER and ODOO_API_KEY or ODOO_PASSWORD; undefined when incomplete. */
export function readOdooCredentials(env: Record<string, string | undefined>): OdooCredentials | undefined {
  const { ODOO_URL: url, ODOO_DB: db, ODOO_USER: login, ODOO_API_KEY: apiKey, ODOO_PASSWORD: password } = env;
  if (!url || !db || !login || !(apiKey || password)) return undefined;
  return { url, db, login, ...(apiKey ? { apiKey } : { password }) };
}

/** Connects (to the sandbox when no credentials are given) and builds the check report. */
export async function checkOdooConnection(
  credentials: OdooCredentials | undefined,
  accounts: readonly ConfiguredBankAccount[],
  options: OdooTransportOptions = {},
): Promise<OdooCheckReport> {
  const sandbox = credentials ? undefined : await startSandboxOdoo();
  try {
    const target = credentials ?? {
      url: sandbox!.url,
      db: sandbox!.db,
      login: sandbox!.login,
      apiKey: sandbox!.apiKey,
    };
    const client = await OdooClient.connect(target, options);
    const companies = [];
    for (const company of await client.listCompanies())
      companies.push({ company, journals: await client.listBankJournals(company.id) });
    return {
      target: credentials
        ? `${credentials.url} (db ${credentials.db}, user ${credentials.login})`
        : 'sandbox Odoo (no ODOO_URL configured)',
      version: client.version.serverVersion,
      protocol: client.transport.protocol,
      companies,
      mappings: mapBankAccountsToJournals(
        accounts,
        companies.flatMap((c) => c.journals),
      ),
    };
  } finally {
    await sandbox?.close();
  }
}

/** Renders the report for a terminal, with IBANs masked. */
export function formatOdooCheckReport(report: OdooCheckReport): string {
  const out = [`odoo: ${report.target}`, `  version ${report.version} over ${report.protocol}`];
  for (const { company, journals } of report.companies) {
    out.push(`  company ${company.id} ${company.name} (${company.currency})`);
    if (journals.length === 0) out.push('    no bank journals');
    for (const j of journals) {
      out.push(
        `    bank journal ${j.id} ${j.code} "${j.name}" ${j.currency} ${j.accountNumber ? maskIban(j.accountNumber) : 'no bank account'}`,
      );
    }
  }
  for (const m of report.mappings) {
    const what = `${maskIban(m.account.iban)} ${m.account.currency}`;
    out.push(
      m.problem ? `  ✗ ${what}: ${m.problem}` : `  ✓ ${what} → journal ${m.journal!.id} ${m.journal!.code}`,
    );
  }
  return out.join('\n');
}
