/**
 * Release exactly once: under the order's row lock the pain.001 is written, validated against its
 * XSD and put into the bank channel under a name derived from its MsgId, then recorded with the
 * released event in the same transaction. A second concurrent release waits on the lock and finds
 * the order released; a crash after the file landed but before the commit leaves the order
 * approved, and the retry finds the file under its deterministic name and only records it.
 */
import { createHash } from 'node:crypto';
import { ConflictError, ErrorCodes, NonRetryableError, ValidationError } from '../../domain/index.ts';
import { writePain001, type Pain001Version } from '../../formats/iso20022/pain001/index.ts';
import { compileXsd, pain001XsdFileNames, type CompiledXsd } from '../../formats/iso20022/xsd/index.ts';
import type { Queryable } from '../../store/index.ts';
import { checkApprovals } from './approvals.ts';
import { tryDeliverPaymentOrder, type DeliveryFailure } from './deliver.ts';
import type { PaymentRunDeps } from './deps.ts';
import { readBillRows, readLineRows, readOrderRow, toPaymentOrder, type OrderRow } from './order-rows.ts';
import { resolvePaymentAccount } from './propose.ts';
import { transitionOrder } from './state-machine.ts';

/** What a release produced: the file's name, digest and where the bank channel has it. */
export interface ReleaseResult {
  orderId: string;
  state: string;
  fileName: string;
  sha256: string;
  location: string;
  /** True when the order had been released before (a repeated or concurrent request). */
  alreadyReleased: boolean;
  /** True when the file was found in the channel from an interrupted earlier attempt. */
  recovered: boolean;
  /**
   * Accounts with a delivery channel (SFTP): `delivered` when the bank has the file (order `sent`),
   * `waiting` when the attempt failed and the delivery loop retries it (order stays `released`).
   */
  delivery?:
    | { state: 'delivered'; location: string; remotePath: string | undefined; recovered: boolean }
    | { state: 'waiting'; error: DeliveryFailure };
}

const compiled = new Map<string, CompiledXsd>();

function validatorFor(deps: PaymentRunDeps, version: Pain001Version, orderId: string): CompiledXsd {
  const text = deps.xsd[version];
  if (text === undefined) {
    const files = pain001XsdFileNames[version].join(' or ');
    const where = deps.xsdSource ?? 'the XSD folder (KONTOR_XSD_DIR)';
    throw new NonRetryableError(
      ErrorCodes.PAYMENT_XSD_MISSING,
      `payment order ${orderId} is not released: the official XSD of ${version} is missing, and a file is never released unvalidated. ` +
        `Put ${files} into ${where}, or set KONTOR_XSD_DIR to a folder that holds it, then restart Kontor and release again.`,
      { details: { orderId, version, expectedFiles: [...pain001XsdFileNames[version]], xsdSource: where } },
    );
  }
  let v = compiled.get(text);
  if (v === undefined) {
    v = compileXsd(text);
    compiled.set(text, v);
  }
  return v;
}

/** The bank channel's file name of an order: fixed by its MsgId, so a retry finds an earlier write. */
export function paymentFileName(order: Pick<OrderRow, 'message_id'>): string {
  return `${order.message_id}.xml`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Writes the pain.001 of an order and validates it against the XSD of its version; throws PAYMENT_FILE_INVALID. */
export async function buildPaymentFile(deps: PaymentRunDeps, q: Queryable, order: OrderRow): Promise<string> {
  const { account, entity } = resolvePaymentAccount(deps, order.bank_account_id);
  const [lines, bills] = await Promise.all([readLineRows(q, order.id), readBillRows(q, order.id)]);
  const version = order.pain_version as Pain001Version;
  const xml = writePain001(
    toPaymentOrder(order, lines, bills),
    { name: entity.name, iban: account.iban!, ...(account.bic === undefined ? {} : { bic: account.bic }) },
    {
      version,
      creationDateTime: deps.clock.now(),
      messageId: order.message_id,
      paymentInfoId: order.message_id,
    },
  );
  const valid = validatorFor(deps, version, order.id).validate(xml);
  if (!valid.ok)
    throw new ValidationError(
      `the pain.001 of order ${order.id} is not valid against ${version}: ${valid.error.message}`,
      valid.error.issues.map((i) => ({
        path: i.path ?? '',
        message: i.message,
        ...(i.line === undefined ? {} : { line: i.line }),
      })),
      {
        code: ErrorCodes.PAYMENT_FILE_INVALID,
      },
    );
  return xml;
}

/** The pain.001 an order's release writes (same bytes for the same order and clock); for previews and checks. */
export async function renderPaymentFile(deps: PaymentRunDeps, orderId: string): Promise<string> {
  return buildPaymentFile(deps, deps.db, await readOrderRow(deps.db, orderId));
}

/** Releases an approved order to its bank channel exactly once; repeated calls return the first release. */
export async function releasePaymentOrder(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
): Promise<ReleaseResult> {
  const { accountId, ...result } = await releaseToFolder(deps, input);
  if (result.state !== 'released' || deps.deliveryFor?.(accountId) === undefined) return result;
  // The release is committed; delivery is a separate step that may wait (and is retried by the loop).
  const delivered = await tryDeliverPaymentOrder(deps, input);
  if (!delivered.ok) return { ...result, delivery: { state: 'waiting', error: delivered.error } };
  const d = delivered.value;
  return {
    ...result,
    state: d.state,
    delivery: {
      state: 'delivered',
      location: d.location ?? '',
      remotePath: d.remotePath,
      recovered: d.recovered ?? false,
    },
  };
}

async function releaseToFolder(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
): Promise<ReleaseResult & { accountId: string }> {
  let expired: string | undefined;
  const result = await deps.db.transaction(
    async (tx): Promise<(ReleaseResult & { accountId: string }) | undefined> => {
      const order = await readOrderRow(tx, input.orderId, true);
      const channel = deps.channelFor(order.bank_account_id);
      const name = paymentFileName(order);
      if (order.file_name !== null && order.file_sha256 !== null)
        return {
          orderId: order.id,
          accountId: order.bank_account_id,
          state: order.state,
          fileName: order.file_name,
          sha256: order.file_sha256,
          location: channel.location,
          alreadyReleased: true,
          recovered: false,
        };
      if (order.state !== 'approved')
        throw new ConflictError(
          `payment order ${order.id} is ${order.state}; only an approved order can be released`,
          {
            code: ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT,
            details: { orderId: order.id, state: order.state },
          },
        );
      const { decision } = await checkApprovals(deps, tx, order);
      if (!decision.ok || decision.value.status !== 'approved') {
        // Approvals lapsed between approval and release: back to pending_approval, committed, then refused.
        expired = decision.ok ? 'approvals are no longer sufficient' : decision.error.reason;
        await transitionOrder(deps, tx, {
          orderId: order.id,
          to: 'pending_approval',
          actor: 'system',
          reason: expired,
          correlationId: input.correlationId,
        });
        return undefined;
      }
      const existing = await channel.read(name);
      let xml: string;
      let recovered = false;
      if (existing !== undefined) {
        // Only our own earlier write may be adopted; a foreign file under our name is a conflict, not a success.
        if (!existing.includes(`<MsgId>${order.message_id}</MsgId>`))
          throw new ConflictError(`${name} in ${channel.location} is not the file of order ${order.id}`, {
            code: ErrorCodes.CONFLICT,
          });
        xml = existing;
        recovered = true;
      } else {
        xml = await buildPaymentFile(deps, tx, order);
        const delivered = await channel.deliver(name, xml);
        if (!delivered.written) {
          xml = (await channel.read(name)) ?? xml;
          recovered = true;
        }
      }
      const digest = sha256(xml);
      await transitionOrder(deps, tx, {
        orderId: order.id,
        to: 'released',
        actor: input.actor,
        correlationId: input.correlationId,
        fields: {
          file_name: name,
          file_sha256: digest,
          file_xml: xml,
          released_by: input.actor,
          released_at: deps.clock.now().toISOString(),
        },
        details: { fileName: name, sha256: digest, channel: channel.location, recovered },
      });
      return {
        orderId: order.id,
        accountId: order.bank_account_id,
        state: 'released',
        fileName: name,
        sha256: digest,
        location: channel.location,
        alreadyReleased: false,
        recovered,
      };
    },
  );
  if (result === undefined)
    throw new ConflictError(
      `payment order ${input.orderId} cannot be released: ${expired}; it needs approval again`,
      {
        code: ErrorCodes.APPROVAL_EXPIRED,
      },
    );
  return result;
}

/** Cancels an order before the bank has it; a released file is withdrawn from the channel first. */
export async function cancelPaymentOrder(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; reason?: string | undefined; correlationId?: string | undefined },
): Promise<{ orderId: string; state: 'cancelled'; withdrawnFile: string | undefined }> {
  return deps.db.transaction(async (tx) => {
    const order = await readOrderRow(tx, input.orderId, true);
    let withdrawn: string | undefined;
    if (order.state === 'released' && order.file_name !== null) {
      // An upload may have reached the bank's server before a crash kept it from being recorded:
      // ask the server first (under the order's row lock, which delivery also takes). A server
      // that cannot answer keeps the order as it is: cancelling could leave a live file at the bank.
      const delivery = deps.deliveryFor?.(order.bank_account_id);
      const xml = async () =>
        (
          await tx.query<{ file_xml: string }>('SELECT file_xml FROM payment_orders WHERE id = $1', [
            order.id,
          ])
        ).rows[0]!.file_xml;
      if (delivery !== undefined && (await delivery.withdraw(order.file_name, await xml())) === 'delivered')
        throw new ConflictError(
          `${order.file_name} is already on the bank's server (${delivery.location}); order ${order.id} can no longer be cancelled (ask the bank to recall it)`,
          { code: ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT },
        );
      const gone = !(await deps.channelFor(order.bank_account_id).withdraw(order.file_name));
      if (gone)
        throw new ConflictError(
          `the bank channel already took ${order.file_name}; order ${order.id} can no longer be cancelled (ask the bank to recall it)`,
          { code: ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT },
        );
      withdrawn = order.file_name;
    }
    await transitionOrder(deps, tx, {
      orderId: order.id,
      to: 'cancelled',
      actor: input.actor,
      reason: input.reason,
      correlationId: input.correlationId,
      fields: input.reason === undefined ? {} : { cancel_reason: input.reason },
      ...(withdrawn === undefined ? {} : { details: { withdrawnFile: withdrawn } }),
    });
    // Compensation: the bills are free for the next run.
    await tx.query('UPDATE payment_order_bills SET open = false WHERE order_id = $1', [order.id]);
    return { orderId: order.id, state: 'cancelled' as const, withdrawnFile: withdrawn };
  });
}

/** Records that the bank channel delivered the file (released → sent). */
export async function markPaymentOrderSent(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
): Promise<{ orderId: string; state: 'sent' }> {
  return deps.db.transaction(async (tx) => {
    await readOrderRow(tx, input.orderId, true);
    await transitionOrder(deps, tx, {
      orderId: input.orderId,
      to: 'sent',
      actor: input.actor,
      correlationId: input.correlationId,
    });
    return { orderId: input.orderId, state: 'sent' as const };
  });
}

/** The released file of an order, for download; undefined before release. */
export async function readPaymentFile(
  deps: Pick<PaymentRunDeps, 'db'>,
  orderId: string,
): Promise<{ fileName: string; sha256: string; xml: string } | undefined> {
  await readOrderRow(deps.db, orderId);
  const r = await deps.db.query<{
    file_name: string | null;
    file_sha256: string | null;
    file_xml: string | null;
  }>('SELECT file_name, file_sha256, file_xml FROM payment_orders WHERE id = $1', [orderId]);
  const row = r.rows[0];
  if (row?.file_name == null || row.file_xml === null || row.file_sha256 === null) return undefined;
  return { fileName: row.file_name, sha256: row.file_sha256, xml: row.file_xml };
}
