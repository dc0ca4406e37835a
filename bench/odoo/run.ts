// Benchmark: 1,000 statement lines into Odoo batched (load, 200 per call) vs one call per record, with one
// direct 1,000-row `create` as the baseline; against the sandbox and, when ODOO_URL is set, a real Odoo.
// Prints ONE JSON line. Throttling is off so the numbers measure Odoo, not Kontor's own pacing.
// BENCH_ROWS (default 1000) and BENCH_PER_RECORD_ROWS (default BENCH_ROWS) size the runs. The lines it
// created are deleted again at the end (BENCH_KEEP=1 keeps them): every line is a posted journal entry,
// and a journal that grows by thousands of lines per run makes each later run slower than the last.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { money } from '../../src/domain/index.ts';
import {
  type BatchWriteResult,
  OdooClient,
  type OdooCredentials,
  readOdooCredentials,
  type StatementLineInput,
  startSandboxOdoo,
  toOdooNumber,
} from '../../src/connectors/odoo/index.ts';

const rows = Number(process.env.BENCH_ROWS ?? 1000);
const perRecordRows = Number(process.env.BENCH_PER_RECORD_ROWS ?? rows);

interface Phase {
  rows: number;
  ms: number;
  rowsPerSec: number;
  roundTrips: number;
}

async function measure(client: OdooClient, count: number, work: () => Promise<unknown>): Promise<Phase> {
  const trips = client.transport.stats().roundTrips;
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  return {
    rows: count,
    ms: Math.round(ms),
    rowsPerSec: Math.round((count / ms) * 1000 * 10) / 10,
    roundTrips: client.transport.stats().roundTrips - trips,
  };
}

function add(total: Phase, part: Phase): void {
  total.rows += part.rows;
  total.ms += part.ms;
  total.roundTrips += part.roundTrips;
  total.rowsPerSec = Math.round((total.rows / total.ms) * 1000 * 10) / 10;
}

async function runTarget(
  name: string,
  credentials: OdooCredentials,
  live: boolean,
): Promise<Record<string, unknown>> {
  const client = await OdooClient.connect(credentials, {
    throttle: { ratePerSecond: 0, burst: 1 },
    timeoutMs: 600_000,
  });
  const companies = await client.listCompanies();
  let companyId = 0;
  let journalId = 0;
  let currency = 'EUR';
  for (const c of companies) {
    const [j] = await client.listBankJournals(c.id);
    if (j) {
      companyId = c.id;
      journalId = j.id;
      currency = j.currency;
      break;
    }
  }
  const run = randomUUID();
  const created: number[] = [];
  const keep = (ids: unknown): void => {
    if (Array.isArray(ids)) created.push(...ids.filter((id): id is number => typeof id === 'number'));
  };
  const track = (result: BatchWriteResult): BatchWriteResult => {
    keep(result.outcomes.map((o) => o.id));
    return result;
  };
  const date = new Date().toISOString().slice(0, 10);
  const lines = (kind: string, count: number): StatementLineInput[] =>
    Array.from({ length: count }, (_, i) => ({
      journalId,
      bankAccount: `bench-${journalId}`,
      statementId: `${run}-${kind}`,
      entryRef: String(i),
      date,
      amount: money(BigInt(100 + i), currency),
      paymentRef: `bench ${kind} ${i}`,
    }));
  const createDirect = (kind: string): Promise<Phase> =>
    measure(client, rows, async () =>
      keep(
        await client.execute(companyId, {
          model: 'account.bank.statement.line',
          method: 'create',
          params: {
            vals_list: lines(kind, rows).map((l) => ({
              journal_id: l.journalId,
              date: l.date,
              payment_ref: l.paymentRef,
              amount: toOdooNumber(l.amount),
            })),
          },
        }),
      ),
    );
  // The machine is shared, so its load drifts: the direct baseline runs before and after, and the batched
  // and per-record writes run interleaved in five slices (one 200-row batch each), so drift hits all alike.
  const directBefore = await createDirect('direct-before');
  const slices = 5;
  const batched: Phase = { rows: 0, ms: 0, rowsPerSec: 0, roundTrips: 0 };
  const perRecord: Phase = { rows: 0, ms: 0, rowsPerSec: 0, roundTrips: 0 };
  for (let slice = 0; slice < slices; slice++) {
    const b = Math.floor(rows / slices);
    const p = Math.floor(perRecordRows / slices);
    add(
      batched,
      await measure(client, b, async () =>
        track(await client.createStatementLines(companyId, lines(`batched-${slice}`, b))),
      ),
    );
    add(
      perRecord,
      await measure(client, p, async () =>
        track(await client.createStatementLines(companyId, lines(`single-${slice}`, p), { batchSize: 1 })),
      ),
    );
  }
  const directAfter = await createDirect('direct-after');
  const direct = {
    rowsPerSec: Math.round(((directBefore.rowsPerSec + directAfter.rowsPerSec) / 2) * 10) / 10,
    before: directBefore,
    after: directAfter,
  };
  if (live && process.env.BENCH_KEEP !== '1') {
    for (let i = 0; i < created.length; i += 500) {
      await client.execute(companyId, {
        model: 'account.bank.statement.line',
        method: 'unlink',
        ids: created.slice(i, i + 500),
      });
    }
  }
  const vsPerRecord = Math.round((batched.rowsPerSec / perRecord.rowsPerSec) * 100) / 100;
  const vsDirect = Math.round((batched.rowsPerSec / direct.rowsPerSec) * 100) / 100;
  return {
    target: name,
    version: client.version.serverVersion,
    protocol: client.transport.protocol,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
    batched,
    perRecord,
    direct,
    ratios: { batchedVsPerRecord: vsPerRecord, batchedVsDirect: vsDirect },
    ...(live
      ? { bar: { batchedVsPerRecordAtLeast4: vsPerRecord >= 4, batchedVsDirectAtLeast0_9: vsDirect >= 0.9 } }
      : {}),
  };
}

const results: Record<string, unknown>[] = [];
const sandbox = await startSandboxOdoo();
try {
  results.push(
    await runTarget(
      'sandbox',
      { url: sandbox.url, db: sandbox.db, login: sandbox.login, apiKey: sandbox.apiKey },
      false,
    ),
  );
} finally {
  await sandbox.close();
}
const live = readOdooCredentials(process.env);
if (live) results.push(await runTarget(`odoo ${live.url}`, live, true));
process.stdout.write(`${JSON.stringify({ bench: 'odoo', rows, perRecordRows, results })}\n`);
