/**
 * Delivery to the bank (released → sent) for accounts with a delivery channel (SFTP). The local
 * folder write of the release is the durable step; delivery hands that same file to the bank,
 * under the order's row lock, and records `sent` with its event and audit record in the same
 * transaction. A crash after the upload and before the commit leaves the order `released`; the
 * next attempt finds the file on the server (same size and hash) and only records it. A failed
 * attempt changes nothing but leaves a `payment-order.delivery-failed` audit record; the order
 * stays `released` (waiting for delivery) and the delivery loop retries it with backoff.
 */
import { AppError, ConflictError, ErrorCodes, type PaymentOrderState } from '../../domain/index.ts';
import { startWakeLoop, type WakeLoop } from '../shared/index.ts';
import type { PaymentRunDeps } from './deps.ts';
import { readOrderRow } from './order-rows.ts';
import { transitionOrder } from './state-machine.ts';

/** What one delivery attempt did. */
export interface DeliveryResult {
  orderId: string;
  state: PaymentOrderState;
  /** `delivered`: recorded now; `already-delivered`: an earlier attempt recorded it; `no-channel`: the account has none. */
  outcome: 'delivered' | 'already-delivered' | 'no-channel';
  location?: string;
  remotePath?: string;
  /** True when the file was already on the server from an interrupted attempt. */
  recovered?: boolean;
}

/** A failed delivery as the release reports it: the order waits in `released`. */
export interface DeliveryFailure {
  code: string;
  message: string;
  retryable: boolean;
}

/** States an order reaches only after the bank had its file. */
const deliveredStates: readonly PaymentOrderState[] = [
  'sent',
  'accepted',
  'partially_accepted',
  'rejected',
  'settled',
];

function failureOf(e: unknown): DeliveryFailure {
  if (e instanceof AppError) return { code: e.code, message: e.message, retryable: e.retryable };
  return { code: ErrorCodes.INTERNAL, message: String((e as Error)?.message ?? e), retryable: true };
}

/** Delivers a released order's file through its account's delivery channel and records `sent`. */
export async function deliverPaymentOrder(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
): Promise<DeliveryResult> {
  try {
    return await deps.db.transaction(async (tx): Promise<DeliveryResult> => {
      const order = await readOrderRow(tx, input.orderId, true);
      const channel = deps.deliveryFor?.(order.bank_account_id);
      if (channel === undefined) return { orderId: order.id, state: order.state, outcome: 'no-channel' };
      if (order.state !== 'released') {
        if (deliveredStates.includes(order.state))
          return { orderId: order.id, state: order.state, outcome: 'already-delivered' };
        throw new ConflictError(
          `payment order ${order.id} is ${order.state}; only a released order is delivered`,
          {
            code: ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT,
            details: { orderId: order.id, state: order.state },
          },
        );
      }
      const file = await tx.query<{ file_name: string; file_xml: string; file_sha256: string }>(
        'SELECT file_name, file_xml, file_sha256 FROM payment_orders WHERE id = $1',
        [order.id],
      );
      const { file_name: name, file_xml: xml, file_sha256: digest } = file.rows[0]!;
      const sent = await channel.deliver(name, xml);
      await transitionOrder(deps, tx, {
        orderId: order.id,
        to: 'sent',
        actor: input.actor,
        correlationId: input.correlationId,
        details: {
          channel: channel.location,
          remotePath: sent.remotePath,
          fileName: name,
          sha256: digest,
          recovered: !sent.uploaded,
        },
      });
      return {
        orderId: order.id,
        state: 'sent',
        outcome: 'delivered',
        location: channel.location,
        remotePath: sent.remotePath,
        recovered: !sent.uploaded,
      };
    });
  } catch (e) {
    if (e instanceof AppError && e.code === ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT) throw e;
    await recordDeliveryFailure(deps, input, e).catch(() => undefined);
    throw e;
  }
}

/** The audit trail of a failed attempt (nothing else changes; the order stays released). */
async function recordDeliveryFailure(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
  error: unknown,
): Promise<void> {
  const failure = failureOf(error);
  await deps.db.transaction(async (tx) => {
    const order = await readOrderRow(tx, input.orderId);
    await deps.audit(tx, {
      actor: input.actor,
      action: 'payment-order.delivery-failed',
      resourceType: 'payment-order',
      resourceId: input.orderId,
      ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
      details: {
        state: order.state,
        channel: deps.deliveryFor?.(order.bank_account_id)?.location,
        ...failure,
      },
    });
  });
}

/** Tries to deliver a released order and reports a failure instead of throwing (the release already committed). */
export async function tryDeliverPaymentOrder(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
): Promise<{ ok: true; value: DeliveryResult } | { ok: false; error: DeliveryFailure }> {
  try {
    return { ok: true, value: await deliverPaymentOrder(deps, input) };
  } catch (e) {
    return { ok: false, error: failureOf(e) };
  }
}

/** One pass over the orders waiting for delivery. */
export interface DeliveryPassResult {
  delivered: string[];
  failed: { orderId: string; error: DeliveryFailure }[];
}

/** Delivers every released order of an account with a delivery channel, oldest first; `skip` holds orders left for a person. */
export async function deliverPendingPaymentOrders(
  deps: PaymentRunDeps,
  options: { actor?: string; skip?: ReadonlySet<string> } = {},
): Promise<DeliveryPassResult> {
  const accounts = deps.accounts.filter((a) => deps.deliveryFor?.(a.id) !== undefined).map((a) => a.id);
  const result: DeliveryPassResult = { delivered: [], failed: [] };
  if (accounts.length === 0) return result;
  const waiting = await deps.db.query<{ id: string }>(
    `SELECT id FROM payment_orders WHERE state = 'released' AND bank_account_id = ANY($1) ORDER BY released_at, id`,
    [accounts],
  );
  for (const { id } of waiting.rows) {
    if (options.skip?.has(id)) continue;
    const r = await tryDeliverPaymentOrder(deps, { orderId: id, actor: options.actor ?? 'system:delivery' });
    if (r.ok) {
      if (r.value.outcome === 'delivered') result.delivered.push(id);
    } else result.failed.push({ orderId: id, error: r.error });
  }
  return result;
}

/**
 * The hub's delivery loop: a pass at start, every `intervalMs`, and with exponential backoff
 * (up to `maxBackoffMs`) while a delivery fails transiently. An order refused for a reason no
 * retry fixes (host key mismatch, login refused, a different file under its name) is not retried
 * by the loop until the next start; a release request for it tries again at once.
 */
export function startPaymentDeliveryLoop(
  deps: PaymentRunDeps,
  options: {
    intervalMs?: number;
    maxBackoffMs?: number;
    onResult?(r: DeliveryPassResult): void;
    onError?(e: unknown, retryInMs: number): void;
  } = {},
): WakeLoop {
  const refused = new Set<string>();
  return startWakeLoop(
    async () => {
      const r = await deliverPendingPaymentOrders(deps, { skip: refused });
      for (const f of r.failed) if (!f.error.retryable) refused.add(f.orderId);
      options.onResult?.(r);
      return { failed: r.failed.some((f) => f.error.retryable) };
    },
    {
      intervalMs: options.intervalMs ?? 60_000,
      maxBackoffMs: options.maxBackoffMs ?? 300_000,
      onError: (e, retryInMs) => options.onError?.(e, retryInMs),
    },
  );
}
