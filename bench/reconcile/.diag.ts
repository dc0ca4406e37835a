import { createDefaultRules, matchLines } from '../../src/flows/reconciliation/index.ts';
import { generateDataset } from './generate.ts';
const data = generateDataset({ lines: 100000, items: 100000, seed: 8 });
const byId = new Map(data.items.map((i) => [i.id, i]));
const r = matchLines({
  lines: data.lines,
  openItems: data.items,
  rules: createDefaultRules(),
  context: { partnerByIban: data.partnerByIban, rates: data.rates },
});
const lines = new Map(data.lines.map((l) => [l.id, l]));
let shown = 0;
for (const p of r) {
  if (p.status !== 'auto') continue;
  const t = data.truth.get(p.lineId)!;
  const got = p.allocations.map((a) => a.itemId);
  if (t.length === got.length && [...t].sort().join() === [...got].sort().join()) continue;
  if (shown++ > 14) continue;
  const l = lines.get(p.lineId)!;
  console.log(
    data.scenario.get(p.lineId),
    l.amount.amount,
    l.amount.currency,
    l.remittanceInfo,
    l.creditorReference,
    '| truth',
    t
      .map((id) => {
        const i = byId.get(id)!;
        return `${i.id} ${i.number} ${i.partnerId} ${i.residual.amount} ${i.paymentReference}`;
      })
      .join(' ; '),
    '| got',
    got
      .map((id) => {
        const i = byId.get(id)!;
        return `${i.id} ${i.number} ${i.partnerId} ${i.residual.amount} ${i.paymentReference}`;
      })
      .join(' ; '),
    '|',
    p.explanation,
  );
}
