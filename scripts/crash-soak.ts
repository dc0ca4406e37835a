// Longer crash-safety soak for the event backbone: many SIGKILLs per scenario, one JSON line per
// scenario. Usage: node --import tsx scripts/crash-soak.ts [kills=50] [scenario…]
import { runCrashScenario, type CrashScenario } from '../test/support/events-crash.ts';

const all: CrashScenario[] = ['embedded-pglite', 'embedded-postgres', 'nats-postgres'];
const kills = Number(process.argv[2] ?? process.env.CRASH_RUNS ?? 50);
const chosen = process.argv.slice(3).filter((s): s is CrashScenario => (all as string[]).includes(s));
let failed = false;
for (const scenario of chosen.length > 0 ? chosen : all) {
  const started = Date.now();
  const total = Number(process.env.CRASH_TOTAL ?? kills * 100);
  const r = await runCrashScenario(scenario, { kills, total });
  const ok = r.events === total && r.effects === total && r.wrong === 0 && r.deadLetters === 0;
  failed ||= !ok;
  console.log(JSON.stringify({ ...r, total, ok, seconds: Math.round((Date.now() - started) / 1000) }));
}
process.exit(failed ? 1 : 0);
