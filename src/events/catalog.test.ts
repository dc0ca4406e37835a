import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { fixedClock, paymentOrderStates, sequentialIds, ValidationError } from '../domain/index.ts';
import { EventCatalog, defaultCatalog, formatCatalog, paymentOrderEventType } from './catalog.ts';
import { cloudEventSchema, decodeCloudEvent, encodeCloudEvent } from './envelope.ts';
import { buildEvent } from './outbox.ts';

const NOW = 1_700_000_000_000;

describe('event catalog', () => {
  it('lists the built-in types with owner, version and a JSON Schema each', () => {
    const types = defaultCatalog.describe().map((d) => d.type);
    for (const t of [
      'kontor.bank.statement.received.v1',
      'kontor.bank.statement.posted.v1',
      'kontor.reconciliation.matched.v1',
    ]) {
      assert.ok(types.includes(t), t);
    }
    for (const state of paymentOrderStates) assert.ok(types.includes(paymentOrderEventType(state)), state);
    const received = defaultCatalog.describe().find((d) => d.type === 'kontor.bank.statement.received.v1')!;
    assert.equal(received.owner, 'statement-import');
    assert.equal(received.version, 1);
    assert.equal(received.jsonSchema.type, 'object');
    assert.ok((received.jsonSchema.required as string[]).includes('statementId'));
  });

  it('prints one row per type', () => {
    const text = formatCatalog();
    assert.match(text, /^TYPE\s+VERSION\s+OWNER\s+DESCRIPTION/);
    assert.equal(text.trim().split('\n').length, defaultCatalog.list().length + 1);
  });

  it('rejects unversioned or duplicate type names', () => {
    const c = new EventCatalog([]);
    const def = { type: 'kontor.x.done.v1', version: 1, owner: 't', description: 'd', schema: z.object({}) };
    c.register(def);
    assert.throws(() => c.register(def), /already registered/);
    assert.throws(() => c.register({ ...def, type: 'kontor.x.done' }), /versioned|look like/);
    assert.throws(() => c.register({ ...def, type: 'kontor.y.done.v2' }), /look like/);
  });

  it('rejects data that does not match the schema, naming the field', () => {
    assert.throws(
      () =>
        defaultCatalog.validate('kontor.bank.statement.received.v1', {
          statementId: 's',
          bankAccountId: 'b',
          format: 'pdf',
          lineCount: 1,
        }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.code === 'EVENT_SCHEMA_VIOLATION' &&
        e.issues.some((i) => i.path === 'data.format'),
    );
    assert.throws(
      () => defaultCatalog.validate('kontor.nope.v1', {}),
      (e: unknown) => e instanceof ValidationError && e.code === 'EVENT_TYPE_UNKNOWN',
    );
  });

  it('rejects a payment order event whose state contradicts its type', () => {
    assert.throws(() =>
      defaultCatalog.validate(paymentOrderEventType('approved'), {
        paymentOrderId: 'po1',
        entityId: 'e1',
        state: 'rejected',
      }),
    );
    assert.doesNotThrow(() =>
      defaultCatalog.validate(paymentOrderEventType('approved'), {
        paymentOrderId: 'po1',
        entityId: 'e1',
        state: 'approved',
      }),
    );
  });
});

describe('envelope', () => {
  it('builds a CloudEvents 1.0 envelope with injected clock and ids, correlating by its own id by default', () => {
    const e = buildEvent(
      {
        type: 'kontor.bank.statement.posted.v1',
        subject: 'acct-1',
        data: { statementId: 's1', bankAccountId: 'acct-1', linesPosted: 3 },
      },
      { clock: fixedClock(NOW), ids: sequentialIds('evt') },
    );
    assert.deepEqual(e, {
      specversion: '1.0',
      id: 'evt_1',
      source: '/kontor/statement-import',
      type: 'kontor.bank.statement.posted.v1',
      subject: 'acct-1',
      time: new Date(NOW).toISOString(),
      datacontenttype: 'application/json',
      data: { statementId: 's1', bankAccountId: 'acct-1', linesPosted: 3, linesSkippedAsDuplicate: 0 },
      correlationid: 'evt_1',
    });
    assert.ok(cloudEventSchema.safeParse(e).success);
    assert.deepEqual(decodeCloudEvent(encodeCloudEvent(e)), e);
  });

  it('carries a W3C traceparent and rejects a malformed one on decode', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const e = buildEvent(
      {
        type: 'kontor.bank.statement.posted.v1',
        traceparent,
        correlationId: 'c1',
        data: { statementId: 's1', bankAccountId: 'a', linesPosted: 0 },
      },
      { clock: fixedClock(NOW), ids: sequentialIds() },
    );
    assert.equal(e.traceparent, traceparent);
    assert.equal(e.correlationid, 'c1');
    assert.throws(() => decodeCloudEvent(JSON.stringify({ ...e, traceparent: 'nope' })));
  });
});
