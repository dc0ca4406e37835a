/**
 * The payment order state machine (diagram in README.md): the allowed transitions, and the one
 * function that performs a transition — a conditional UPDATE, its `kontor.payment.order.<state>.v1`
 * event and its audit record, all in the caller's transaction.
 */
import { ConflictError, ErrorCodes, type PaymentOrderState } from '../../domain/index.ts';
import type { Tx } from '../../store/index.ts';
import type { PaymentRunDeps } from './deps.ts';
import { orderTotalJson, readOrderRow, type OrderRow } from './order-rows.ts';

/** Every allowed move; anything else is a PAYMENT_ORDER_STATE_CONFLICT. */
export const paymentOrderTransitions: Readonly<Record<PaymentOrderState, readonly PaymentOrderState[]>> = {
  draft: ['pending_approval', 'cancelled'],
  pending_approval: ['approved', 'cancelled'],
  // Back to pending_approval when approvals expired before the release.
  approved: ['released', 'pending_approval', 'cancelled'],
  released: ['sent', 'cancelled'],
  sent: ['accepted', 'partially_accepted', 'rejected'],
  accepted: ['settled'],
  partially_accepted: ['settled'],
  rejected: [],
  settled: [],
  cancelled: [],
};

/** States an order may be cancelled from: everything before the bank has the file. */
export const cancellableStates: readonly PaymentOrderState[] = allStates().filter((s) =>
  paymentOrderTransitions[s].includes('cancelled'),
);

/** States in which an order holds its bills (the bill cannot go into another order). */
export const openOrderStates: readonly PaymentOrderState[] = [
  'draft',
  'pending_approval',
  'approved',
  'released',
  'sent',
  'accepted',
  'partially_accepted',
];

function allStates(): PaymentOrderState[] {
  return Object.keys(paymentOrderTransitions) as PaymentOrderState[];
}

/** True when the machine allows `from` → `to`. */
export function canTransition(from: PaymentOrderState, to: PaymentOrderState): boolean {
  return paymentOrderTransitions[from].includes(to);
}

/** Columns a transition may set besides the state (fixed names, never user input). */
export interface TransitionFields {
  file_name?: string;
  file_sha256?: string;
  file_xml?: string;
  released_by?: string;
  released_at?: string;
  cancel_reason?: string;
}

export interface TransitionInput {
  orderId: string;
  to: PaymentOrderState;
  actor: string;
  reason?: string | undefined;
  correlationId?: string | undefined;
  fields?: TransitionFields;
  details?: Record<string, unknown>;
}

function stateConflict(orderId: string, from: PaymentOrderState, to: PaymentOrderState): ConflictError {
  return new ConflictError(`payment order ${orderId} is ${from}; it cannot move to ${to}`, {
    code: ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT,
    details: { orderId, state: from, requested: to },
  });
}

/** Moves an order to `to` inside `tx` with its event and audit record; throws PAYMENT_ORDER_STATE_CONFLICT when not allowed. */
export async function transitionOrder(
  deps: Pick<PaymentRunDeps, 'publish' | 'audit' | 'clock'>,
  tx: Tx,
  input: TransitionInput,
): Promise<OrderRow> {
  const before = await readOrderRow(tx, input.orderId);
  if (!canTransition(before.state, input.to)) throw stateConflict(input.orderId, before.state, input.to);
  const fields = Object.entries(input.fields ?? {}).filter(([, v]) => v !== undefined);
  const sets = fields.map(([k], i) => `${k} = $${i + 4}`);
  // The WHERE on the old state makes a concurrent transition lose here instead of both applying.
  const updated = await tx.query(
    `UPDATE payment_orders SET state = $2, updated_at = $3${sets.map((s) => `, ${s}`).join('')} WHERE id = $1 AND state = '${before.state}'`,
    [input.orderId, input.to, deps.clock.now().toISOString(), ...fields.map(([, v]) => v)],
  );
  if (updated.rowCount !== 1) {
    const now = await readOrderRow(tx, input.orderId);
    throw stateConflict(input.orderId, now.state, input.to);
  }
  await deps.publish(tx, {
    type: `kontor.payment.order.${input.to}.v1`,
    subject: input.orderId,
    data: {
      paymentOrderId: input.orderId,
      entityId: before.entity_id,
      state: input.to,
      previousState: before.state,
      total: orderTotalJson(before),
      lineCount: before.line_count,
      actor: input.actor,
      ...(input.reason === undefined ? {} : { reason: input.reason.slice(0, 500) }),
    },
    ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
  });
  await deps.audit(tx, {
    actor: input.actor,
    action: `payment-order.${input.to}`,
    resourceType: 'payment-order',
    resourceId: input.orderId,
    before: { state: before.state },
    after: { state: input.to },
    ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
    details: {
      from: before.state,
      to: input.to,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      ...(input.details ?? {}),
    },
  });
  return { ...before, state: input.to };
}
