// The SFTP bank channel end to end against an in-process SFTP server: a release writes the
// durable folder file (released) and uploads it (sent) with one event and audit record per
// delivery; concurrent and repeated releases upload once; a wrong host key is refused with
// nothing uploaded; a server that is down leaves the order waiting and it is delivered once
// when the server is back; a crash after the upload is finished by recording only. Also: a
// release without the XSDs says which file and which environment variable. A released order is
// cancelled only when the server proves it does not hold the file.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  cancelPaymentOrder,
  createSftpChannel,
  deliverPendingPaymentOrders,
  getPaymentOrder,
  releasePaymentOrder,
  startPaymentDeliveryLoop,
  type PaymentDeliveryChannel,
  type PaymentRunDeps,
} from '../src/flows/payment-run/index.ts';
import { type AppError, RetryAfterError } from '../src/domain/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { approvedOrder, releaseDeps, runBills } from './support/payment-release-child.ts';
import { startSftpServer, type TestSftpServer } from './support/sftp-server.ts';

const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

for (const backend of backends) {
  describe(`payment release over SFTP (${backend})`, { timeout: 120_000 }, () => {
    let t: TestDb;
    let dir: string;
    let server: TestSftpServer;
    let n = 0;
    before(async () => {
      t = await createTestDb(backend);
      dir = mkdtempSync(join(tmpdir(), 'kontor-release-sftp-'));
      server = await startSftpServer(join(dir, 'bank'));
    });
    after(async () => {
      await server?.stop();
      await t?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    function setup(
      options: { hostKeySha256?: string; wrap?: (c: PaymentDeliveryChannel) => PaymentDeliveryChannel } = {},
    ) {
      n++;
      const remote = `/upload-${n}`;
      mkdirSync(join(server.root, remote), { recursive: true });
      const outbox = join(dir, `outbox-${n}`);
      const sftp = createSftpChannel({
        host: server.host,
        port: server.port,
        username: server.username,
        password: server.password,
        path: remote,
        hostKeySha256: options.hostKeySha256 ?? server.hostKeySha256,
        readyTimeoutMs: 5_000,
      });
      const channel = options.wrap ? options.wrap(sftp) : sftp;
      const deps: PaymentRunDeps = {
        ...releaseDeps(t.db, outbox, { bills: runBills(`S${n}`), ids: `SF${n}` }),
        deliveryFor: () => channel,
      };
      const remoteFiles = () => readdirSync(join(server.root, remote));
      return { deps, outbox, remote, remoteFiles, plain: sftp };
    }

    async function trail(orderId: string) {
      const events = await t.db.query<{ type: string }>(
        'SELECT type FROM kontor_events WHERE subject = $1 ORDER BY seq',
        [orderId],
      );
      const audits = await t.db.query<{ action: string; details: Record<string, unknown> }>(
        'SELECT action, details FROM kontor_audit WHERE resource_id = $1 ORDER BY seq',
        [orderId],
      );
      return {
        events: events.rows.map((e) => e.type.replace('kontor.payment.order.', '').replace('.v1', '')),
        audits: audits.rows,
      };
    }

    it('uploads the released file under its MsgId name: folder file, then sent, one event and audit per delivery', async () => {
      const s = setup();
      const orderId = await approvedOrder(s.deps);
      const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(r.state, 'sent');
      assert.equal(r.delivery?.state, 'delivered');
      assert.deepEqual(s.remoteFiles(), [`${orderId}.xml`]);
      const local = readFileSync(join(s.outbox, `${orderId}.xml`), 'utf8');
      assert.equal(readFileSync(join(server.root, s.remote, `${orderId}.xml`), 'utf8'), local);
      const { events, audits } = await trail(orderId);
      assert.deepEqual(events.slice(-2), ['released', 'sent']);
      const sent = audits.filter((a) => a.action === 'payment-order.sent');
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.details.remotePath, `${s.remote}/${orderId}.xml`);
      assert.equal(sent[0]!.details.recovered, false);
      const again = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(again.alreadyReleased, true);
      assert.equal(again.state, 'sent');
      assert.deepEqual(s.remoteFiles(), [`${orderId}.xml`]);
    });

    it('concurrent releases and a delivery pass upload one file and record one delivery', async () => {
      const s = setup();
      const orderId = await approvedOrder(s.deps);
      const writes = server.stats.writes;
      const results = await Promise.all([
        releasePaymentOrder(s.deps, { orderId, actor: 'ops-1' }),
        releasePaymentOrder(s.deps, { orderId, actor: 'ops-2' }),
        deliverPendingPaymentOrders(s.deps),
      ]);
      assert.deepEqual(
        results
          .slice(0, 2)
          .map((r) => (r as { alreadyReleased: boolean }).alreadyReleased)
          .sort(),
        [false, true],
      );
      assert.deepEqual(s.remoteFiles(), [`${orderId}.xml`]);
      assert.equal(server.stats.writes - writes, 1, 'one upload');
      const { events } = await trail(orderId);
      assert.deepEqual(
        events.filter((e) => e === 'released' || e === 'sent'),
        ['released', 'sent'],
      );
    });

    it('refuses a server with another host key: typed error, nothing uploaded, the order waits', async () => {
      const s = setup({ hostKeySha256: `SHA256:${'A'.repeat(43)}` });
      const orderId = await approvedOrder(s.deps);
      const writes = server.stats.writes;
      const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(r.state, 'released');
      assert.equal(r.delivery?.state, 'waiting');
      const failure = r.delivery?.state === 'waiting' ? r.delivery.error : undefined;
      assert.equal(failure?.code, 'BANK_CHANNEL_HOST_KEY_MISMATCH');
      assert.equal(failure?.retryable, false);
      assert.match(failure.message, /host key SHA256:\S+, not the configured SHA256:A{43}/);
      assert.deepEqual(s.remoteFiles(), []);
      assert.equal(server.stats.writes, writes);
      assert.equal((await getPaymentOrder(s.deps, orderId)).state, 'released');
      const { audits } = await trail(orderId);
      assert.equal(audits.filter((a) => a.action === 'payment-order.delivery-failed').length, 1);
      // The loop leaves a refused order to a person instead of hammering the server.
      const pass = await deliverPendingPaymentOrders(s.deps);
      assert.equal(pass.failed[0]?.error.code, 'BANK_CHANNEL_HOST_KEY_MISMATCH');
      // A server Kontor cannot trust cannot prove it lacks the file: no cancel until the channel is fixed.
      await assert.rejects(
        cancelPaymentOrder(s.deps, { orderId, actor: 'carol' }),
        code('BANK_CHANNEL_HOST_KEY_MISMATCH'),
      );
      const fixed = createSftpChannel({
        host: server.host,
        port: server.port,
        username: server.username,
        password: server.password,
        path: s.remote,
        hostKeySha256: server.hostKeySha256,
      });
      // The bank never had it: the order can then be cancelled (the next tests share the account).
      const cancelled = await cancelPaymentOrder(
        { ...s.deps, deliveryFor: () => fixed },
        { orderId, actor: 'carol' },
      );
      assert.equal(cancelled.state, 'cancelled');
    });

    it('a server that is down leaves the order waiting; the loop delivers it once when the server is back', async () => {
      const s = setup();
      const orderId = await approvedOrder(s.deps);
      await server.stop();
      try {
        const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
        assert.equal(r.state, 'released');
        assert.ok(r.delivery?.state === 'waiting' && r.delivery.error.code === 'BANK_CHANNEL_UNAVAILABLE');
        assert.equal(r.delivery.error.retryable, true);
        const down = await deliverPendingPaymentOrders(s.deps);
        assert.equal(down.failed[0]?.error.code, 'BANK_CHANNEL_UNAVAILABLE');
        assert.equal((await getPaymentOrder(s.deps, orderId)).state, 'released');
      } finally {
        await server.start();
      }
      const delivered: string[] = [];
      const loop = startPaymentDeliveryLoop(s.deps, {
        intervalMs: 50,
        onResult: (r) => delivered.push(...r.delivered),
      });
      try {
        for (let i = 0; i < 200 && (await getPaymentOrder(s.deps, orderId)).state !== 'sent'; i++)
          await new Promise((res) => setTimeout(res, 25));
      } finally {
        await loop.stop();
      }
      assert.equal((await getPaymentOrder(s.deps, orderId)).state, 'sent');
      assert.deepEqual(
        delivered.filter((id) => id === orderId),
        [orderId],
      );
      assert.deepEqual(s.remoteFiles(), [`${orderId}.xml`]);
      const { events, audits } = await trail(orderId);
      assert.deepEqual(
        events.filter((e) => e === 'sent'),
        ['sent'],
      );
      assert.equal(audits.filter((a) => a.action === 'payment-order.delivery-failed').length, 2);
    });

    it('a crash after the upload and before the commit is finished by recording only, without a second upload', async () => {
      let crash = true;
      const s = setup({
        wrap: (inner) => ({
          location: inner.location,
          withdraw: (name, content) => inner.withdraw(name, content),
          async deliver(name, content) {
            const r = await inner.deliver(name, content);
            if (crash) throw new Error('simulated crash after the upload');
            return r;
          },
        }),
      });
      const orderId = await approvedOrder(s.deps);
      const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(r.delivery?.state, 'waiting');
      assert.deepEqual(s.remoteFiles(), [`${orderId}.xml`]);
      crash = false;
      const writes = server.stats.writes;
      const pass = await deliverPendingPaymentOrders(s.deps);
      assert.deepEqual(pass.delivered, [orderId]);
      assert.equal(server.stats.writes, writes, 'found on the server, not uploaded again');
      const { audits } = await trail(orderId);
      assert.equal(audits.find((a) => a.action === 'payment-order.sent')?.details.recovered, true);
    });

    it('an order whose file reached the server before a crash cannot be cancelled; an interrupted upload is withdrawn', async () => {
      const s = setup({
        wrap: (inner) => ({
          location: inner.location,
          withdraw: (name, content) => inner.withdraw(name, content),
          async deliver(name, content) {
            await inner.deliver(name, content);
            throw new Error('simulated crash after the upload');
          },
        }),
      });
      const delivered = await approvedOrder(s.deps);
      await releasePaymentOrder(s.deps, { orderId: delivered, actor: 'ops' });
      await assert.rejects(
        cancelPaymentOrder(s.deps, { orderId: delivered, actor: 'carol' }),
        (e: AppError) => {
          assert.equal(e.code, 'PAYMENT_ORDER_STATE_CONFLICT');
          assert.match(e.message, /already on the bank's server/);
          return true;
        },
      );
      const order = await getPaymentOrder(s.deps, delivered);
      assert.equal(order.state, 'released', 'nothing cancelled; the delivery loop records it as sent');
      assert.equal(
        (await deliverPendingPaymentOrders({ ...s.deps, deliveryFor: () => s.plain })).delivered[0],
        delivered,
      );

      const u = setup({
        wrap: (inner) => ({
          location: inner.location,
          withdraw: (name, content) => inner.withdraw(name, content),
          deliver: () => Promise.reject(new RetryAfterError('BANK_CHANNEL_UNAVAILABLE', 'connection reset')),
        }),
      });
      const interrupted = await approvedOrder(u.deps);
      await releasePaymentOrder(u.deps, { orderId: interrupted, actor: 'ops' });
      writeFileSync(join(server.root, u.remote, `.${interrupted}.xml.part`), '<Document>half');
      const cancelled = await cancelPaymentOrder(u.deps, { orderId: interrupted, actor: 'carol' });
      assert.equal(cancelled.state, 'cancelled');
      assert.deepEqual(u.remoteFiles(), [], 'the partial upload is gone');
    });

    it('a server that cannot be reached keeps a released order from being cancelled', async () => {
      const s = setup({ hostKeySha256: `SHA256:${'A'.repeat(43)}` });
      const orderId = await approvedOrder(s.deps);
      await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      await assert.rejects(cancelPaymentOrder(s.deps, { orderId, actor: 'carol' }), (e: AppError) => {
        assert.equal(e.code, 'BANK_CHANNEL_HOST_KEY_MISMATCH');
        return true;
      });
      assert.equal((await getPaymentOrder(s.deps, orderId)).state, 'released');
    });

    it('a different file under the order’s name on the server is a conflict and is left untouched', async () => {
      const s = setup();
      const orderId = await approvedOrder(s.deps);
      writeFileSync(join(server.root, s.remote, `${orderId}.xml`), '<not-ours/>');
      const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.ok(r.delivery?.state === 'waiting' && r.delivery.error.code === 'BANK_CHANNEL_FILE_CONFLICT');
      assert.equal(readFileSync(join(server.root, s.remote, `${orderId}.xml`), 'utf8'), '<not-ours/>');
      await cancelPaymentOrder(s.deps, { orderId, actor: 'carol' });
    });

    it('without the XSDs a release is refused with the file and the environment variable to set, and nothing is written', async () => {
      const s = setup();
      const orderId = await approvedOrder(s.deps);
      const deps: PaymentRunDeps = { ...s.deps, xsd: {}, xsdSource: '/nowhere/xsd (KONTOR_XSD_DIR)' };
      await assert.rejects(
        releasePaymentOrder(deps, { orderId, actor: 'ops' }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'PAYMENT_XSD_MISSING');
          assert.match(e.message, /sepaxml__pain\.001\.001\.09\.xsd or pain\.001\.001\.09\.xsd/);
          assert.match(e.message, /\/nowhere\/xsd/);
          assert.match(e.message, /KONTOR_XSD_DIR/);
          return true;
        },
      );
      assert.equal((await getPaymentOrder(s.deps, orderId)).state, 'approved');
      assert.deepEqual(s.remoteFiles(), []);
      await assert.rejects(releasePaymentOrder(s.deps, { orderId: 'nope', actor: 'ops' }), code('NOT_FOUND'));
    });
  });
}
