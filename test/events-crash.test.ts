// Crash safety: a child publishing and consuming is killed with SIGKILL at random moments (21 kills
// in all), restarted on the same database, and every event's effect is then present exactly once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCrashScenario, type CrashScenario } from './support/events-crash.ts';
import { backends } from './support/db.ts';
import { buses } from './support/events.ts';

// PGlite takes seconds to start in a fresh process, so it gets fewer kills than PostgreSQL.
const scenarios: { scenario: CrashScenario; kills: number; total: number; enabled: boolean }[] = [
  {
    scenario: 'embedded-pglite',
    kills: 4,
    total: 400,
    enabled: backends.includes('pglite') && buses.includes('embedded'),
  },
  {
    scenario: 'embedded-postgres',
    kills: 8,
    total: 600,
    enabled: backends.includes('postgres') && buses.includes('embedded'),
  },
  {
    scenario: 'nats-postgres',
    kills: 9,
    total: 600,
    enabled: backends.includes('postgres') && buses.includes('nats'),
  },
];

describe('crash safety under SIGKILL', { concurrency: true }, () => {
  for (const s of scenarios) {
    it(
      `${s.scenario}: every event has exactly one effect after ${s.kills} kills`,
      { skip: !s.enabled, timeout: 600_000 },
      async () => {
        const r = await runCrashScenario(s.scenario, { kills: s.kills, total: s.total });
        assert.equal(r.events, s.total, JSON.stringify(r));
        assert.equal(r.wrong, 0, JSON.stringify(r));
        assert.equal(r.effects, s.total, JSON.stringify(r));
        assert.equal(r.deadLetters, 0, JSON.stringify(r));
        assert.ok(
          r.killsWhileWorking >= s.kills - 1,
          `most kills must land while the child works: ${JSON.stringify(r)}`,
        );
      },
    );
  }
});
