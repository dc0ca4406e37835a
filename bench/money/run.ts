// Money parsing and allocation throughput, beside the float shortcut it replaces
// (Math.round(parseFloat(x) * 100)), measured in the same run. Prints one JSON line.
import { allocate, formatMoney, money, parseMoney } from '../../src/domain/index.ts';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const amounts = Array.from(
  { length: N },
  (_, i) => `${(i * 7919) % 10_000_000}.${String(i % 100).padStart(2, '0')}`,
);

function time<T>(fn: () => T): { ms: number; result: T } {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result };
}

const float = time(() => {
  let s = 0;
  for (const a of amounts) s += Math.round(parseFloat(a) * 100);
  return s;
});
const exact = time(() => {
  let s = 0n;
  for (const a of amounts) s += parseMoney(a, 'EUR').amount;
  return s;
});
const format = time(() => {
  let len = 0;
  for (let i = 0; i < N; i++) len += formatMoney(money(BigInt(i), 'EUR')).length;
  return len;
});
const alloc = time(() => {
  let n = 0;
  for (let i = 0; i < N / 10; i++) n += allocate(money(BigInt(i) * 100n + 1n, 'EUR'), [1, 2, 3]).length;
  return n;
});

console.log(
  JSON.stringify({
    bench: 'money',
    n: N,
    parseMoneyPerSec: Math.round(N / (exact.ms / 1000)),
    floatBaselinePerSec: Math.round(N / (float.ms / 1000)),
    parseVsFloatRatio: Number((float.ms / exact.ms).toFixed(3)),
    formatMoneyPerSec: Math.round(N / (format.ms / 1000)),
    allocate3PerSec: Math.round(N / 10 / (alloc.ms / 1000)),
    sumsAgree: BigInt(float.result) === exact.result,
  }),
);
