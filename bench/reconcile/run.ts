/**
 * Reconciliation benchmark: Kontor's indexed engine on generated data with known truth, and a naive
 * pairwise matcher beside it on a smaller slice (both run on that slice). Prints one JSON line.
 *
 * Env: RECONCILE_SIZES="10000x50000,100000x100000", RECONCILE_SLICE="2000x10000", RECONCILE_SEED=7.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  buildOpenItemIndex,
  createDefaultRules,
  matchLines,
  type MatchProposal,
} from '../../src/flows/reconciliation/index.ts';
import { generateDataset, type Dataset } from './generate.ts';
import { matchPairwise } from './naive-matcher.ts';

function parseSize(text: string): { lines: number; items: number } {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`size "${text}" is not LINESxITEMS, e.g. 10000x50000`);
  return { lines: Number(m[1]), items: Number(m[2]) };
}

const sizes = (process.env.RECONCILE_SIZES ?? '10000x50000,100000x100000').split(',').map(parseSize);
const slice = parseSize(process.env.RECONCILE_SLICE ?? '2000x10000');
const seed = Number(process.env.RECONCILE_SEED ?? '7');
const rules = createDefaultRules();

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

/** Scores matches against the truth: auto rate over matchable lines and precision of the automatic ones. */
function score(data: Dataset, auto: Map<string, string[]>, proposals: number, exceptions: number) {
  let matchable = 0;
  let autoMatchable = 0;
  let wrong = 0;
  const wrongByScenario: Record<string, number> = {};
  const missedByScenario: Record<string, number> = {};
  for (const line of data.lines) {
    const truth = data.truth.get(line.id) ?? [];
    const got = auto.get(line.id);
    const kind = data.scenario.get(line.id) ?? '?';
    if (truth.length > 0) matchable++;
    if (got === undefined) {
      if (truth.length > 0) missedByScenario[kind] = (missedByScenario[kind] ?? 0) + 1;
      continue;
    }
    if (truth.length > 0) autoMatchable++;
    if (!sameSet(got, truth)) {
      wrong++;
      wrongByScenario[kind] = (wrongByScenario[kind] ?? 0) + 1;
    }
  }
  const autos = auto.size;
  return {
    lines: data.lines.length,
    items: data.items.length,
    matchableLines: matchable,
    autoMatched: autos,
    wrongAutoMatches: wrong,
    autoMatchRate: round(autoMatchable / Math.max(1, matchable)),
    precision: round(autos === 0 ? 1 : 1 - wrong / autos),
    proposals,
    exceptions,
    wrongByScenario,
    notAutoByScenario: missedByScenario,
  };
}

const round = (v: number): number => Math.round(v * 100_000) / 100_000;

function runKontor(data: Dataset) {
  const context = { partnerByIban: data.partnerByIban, rates: data.rates };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const index = buildOpenItemIndex(data.items);
  const t1 = performance.now();
  const result: MatchProposal[] = matchLines({ lines: data.lines, openItems: index, rules, context });
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const auto = new Map<string, string[]>();
  let proposals = 0;
  let exceptions = 0;
  for (const p of result) {
    if (p.status === 'auto')
      auto.set(
        p.lineId,
        p.allocations.map((a) => a.itemId),
      );
    else if (p.status === 'proposal') proposals++;
    else exceptions++;
  }
  return {
    ...score(data, auto, proposals, exceptions),
    indexMs: Math.round(t1 - t0),
    matchMs: Math.round(t2 - t1),
    wallMs: Math.round(t2 - t0),
    // CPU time of this process: on a shared machine it says what the engine costs when wall time cannot.
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    loadAvg1m: round(loadavg()[0] ?? 0),
    microsPerLine: round(((t2 - t0) * 1000) / Math.max(1, data.lines.length)),
  };
}

const runs = sizes.map((size, i) => {
  const data = generateDataset({ ...size, seed: seed + i });
  return runKontor(data);
});

const sliceData = generateDataset({ ...slice, seed: seed + 100 });
const kontorSlice = runKontor(sliceData);
const t0 = performance.now();
const naive = matchPairwise(sliceData.lines, sliceData.items, sliceData.partnerByIban);
const naiveMs = Math.round(performance.now() - t0);
const naiveScore = score(sliceData, naive, 0, sliceData.lines.length - naive.size);

const big = runs.find((r) => r.lines >= 100_000 && r.items >= 100_000);
const bar = big && {
  size: `${big.lines}x${big.items}`,
  wallUnder5s: big.wallMs < 5000,
  precisionAtLeast999: big.precision >= 0.999,
  autoRateAtLeast95: big.autoMatchRate >= 0.95,
};

console.log(
  JSON.stringify({
    bench: 'reconcile',
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model,
    seed,
    rules: {
      autoThreshold: rules.autoThreshold,
      tolerance: rules.tolerance.defaultAmount,
      pipeline: rules.pipeline,
    },
    runs,
    pairwise: {
      lines: sliceData.lines.length,
      items: sliceData.items.length,
      naive: {
        wallMs: naiveMs,
        autoMatchRate: naiveScore.autoMatchRate,
        precision: naiveScore.precision,
        autoMatched: naiveScore.autoMatched,
      },
      kontor: {
        wallMs: kontorSlice.wallMs,
        autoMatchRate: kontorSlice.autoMatchRate,
        precision: kontorSlice.precision,
        autoMatched: kontorSlice.autoMatched,
      },
      speedup: Math.round((naiveMs / Math.max(1, kontorSlice.wallMs)) * 10) / 10,
      // The pairwise cost grows with lines × items; this is what it would take on the largest run.
      naiveExtrapolatedMs: big
        ? Math.round(
            (naiveMs * big.lines * big.items) / Math.max(1, sliceData.lines.length * sliceData.items.length),
          )
        : null,
    },
    bar: bar ?? null,
  }),
);
