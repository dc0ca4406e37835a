/**
 * Submitting and approving: the approval policy from kontor.yaml decides how many distinct human
 * approvals and which roles an order needs (bands, entity, currency, risk signals), and segregation
 * of duties decides whose approval counts. Nobody bypasses it: the creator cannot approve, an
 * identity counts once, services cannot approve, admin scopes change nothing, approvals expire.
 */
import { ConflictError, ErrorCodes, parseMoney, toMoneyJson } from '../../domain/index.ts';
import {
  type Approval,
  type ApprovalContext,
  type ApprovalDenial,
  type ApprovalEvaluation,
  type ApprovalStatus,
  decideApproval,
  deriveRequirement,
  evaluateApprovalPolicy,
  type FiredRule,
  type VendorFacts,
} from '../../policy/approval/index.ts';
import type { Queryable } from '../../store/index.ts';
import type { PaymentActor, PaymentRunDeps } from './deps.ts';
import { readBillRows, readLineRows, readOrderRow, toPaymentOrder, type OrderRow } from './order-rows.ts';
import { transitionOrder } from './state-machine.ts';

interface ApprovalRow {
  approver_id: string;
  approver_kind: 'human' | 'service';
  roles: string[];
  approved_at: Date | string;
}

/** The policy's verdict on an order: rules that fired and why, and where its approvals stand. */
export interface PolicyExplanation {
  orderId: string;
  state: string;
  total: { amount: string; currency: string };
  requiredApprovals: number;
  requiredRoles: string[];
  firedRules: FiredRule[];
  approvalValidForHours: number;
  approvals: { approverId: string; roles: string[]; approvedAt: string; expired: boolean }[];
  status: ApprovalStatus | { status: 'refused'; denial: ApprovalDenial };
}

function toContext(order: OrderRow): ApprovalContext {
  const vendors: Record<string, VendorFacts> = {};
  for (const [vendorId, f] of Object.entries(order.vendor_facts)) {
    // Without a creation date the vendor stays unknown, and the policy fails closed for it.
    if (f.createdAt === undefined) continue;
    vendors[vendorId] = {
      vendorId,
      createdAt: new Date(f.createdAt),
      ...(f.bankAccountChangedAt === undefined
        ? {}
        : { bankAccountChangedAt: new Date(f.bankAccountChangedAt) }),
      recentBills: f.recentBills.map((b) => ({
        billId: b.billId,
        amount: parseMoney(b.amount, order.currency),
        billDate: new Date(`${b.billDate}T00:00:00Z`),
      })),
    };
  }
  return { vendors };
}

async function evaluate(deps: PaymentRunDeps, q: Queryable, order: OrderRow): Promise<ApprovalEvaluation> {
  const [lines, bills] = await Promise.all([readLineRows(q, order.id), readBillRows(q, order.id)]);
  return evaluateApprovalPolicy(
    toPaymentOrder(order, lines, bills),
    toContext(order),
    deps.policy,
    deps.clock.now(),
  );
}

async function readApprovals(q: Queryable, orderId: string): Promise<Approval[]> {
  const rows = (
    await q.query<ApprovalRow>(
      'SELECT approver_id, approver_kind, roles, approved_at FROM payment_order_approvals WHERE order_id = $1 ORDER BY approved_at, approver_id',
      [orderId],
    )
  ).rows;
  return rows.map((r) => ({
    approver: { id: r.approver_id, kind: r.approver_kind, roles: r.roles },
    approvedAt: r.approved_at instanceof Date ? r.approved_at : new Date(r.approved_at),
  }));
}

function isExpired(deps: PaymentRunDeps, a: Approval): boolean {
  return deps.clock.now().getTime() - a.approvedAt.getTime() >= deps.policy.approvalValidForHours * 3_600_000;
}

/** Counts the order's current approvals against the policy (used again right before release). */
export async function checkApprovals(
  deps: PaymentRunDeps,
  q: Queryable,
  order: OrderRow,
): Promise<{
  evaluation: ApprovalEvaluation;
  approvals: Approval[];
  decision: ReturnType<typeof decideApproval>;
}> {
  const evaluation = await evaluate(deps, q, order);
  const approvals = await readApprovals(q, order.id);
  const decision = decideApproval({ id: order.id, createdBy: order.created_by }, approvals, {
    requirement: deriveRequirement(evaluation),
    approvalValidForHours: deps.policy.approvalValidForHours,
    now: deps.clock.now(),
  });
  return { evaluation, approvals, decision };
}

/** Sends a draft order for approval. */
export async function submitPaymentOrder(
  deps: PaymentRunDeps,
  input: { orderId: string; actor: string; correlationId?: string | undefined },
): Promise<{ orderId: string; state: string; requiredApprovals: number; requiredRoles: string[] }> {
  return deps.db.transaction(async (tx) => {
    const order = await readOrderRow(tx, input.orderId, true);
    const evaluation = await evaluate(deps, tx, order);
    await transitionOrder(deps, tx, {
      orderId: input.orderId,
      to: 'pending_approval',
      actor: input.actor,
      correlationId: input.correlationId,
      details: {
        requiredApprovals: evaluation.requiredApprovals,
        requiredRoles: evaluation.requiredRoles,
        firedRules: evaluation.firedRules.map((r) => r.rule),
      },
    });
    return {
      orderId: input.orderId,
      state: 'pending_approval',
      requiredApprovals: evaluation.requiredApprovals,
      requiredRoles: evaluation.requiredRoles,
    };
  });
}

/** The result of one approval: the order's state and what is still missing. */
export interface ApproveResult {
  orderId: string;
  state: 'pending_approval' | 'approved';
  approvers: string[];
  missingApprovals: number;
  missingRoles: string[];
}

/**
 * Records `approver`'s approval; the order becomes approved when the policy is met. A refused
 * approval (segregation of duties) throws a ConflictError carrying the SoD code and stores nothing.
 */
export async function approvePaymentOrder(
  deps: PaymentRunDeps,
  input: { orderId: string; approver: PaymentActor; correlationId?: string | undefined },
): Promise<ApproveResult> {
  const { approver } = input;
  return deps.db.transaction(async (tx) => {
    // The row lock serialises approvals of one order, so two last approvals cannot both "complete" it.
    const order = await readOrderRow(tx, input.orderId, true);
    if (order.state !== 'pending_approval')
      throw new ConflictError(
        `payment order ${order.id} is ${order.state}; only a pending_approval order can be approved`,
        {
          code: ErrorCodes.PAYMENT_ORDER_STATE_CONFLICT,
          details: { orderId: order.id, state: order.state },
        },
      );
    const existing = await readApprovals(tx, order.id);
    const stale = existing.filter((a) => isExpired(deps, a));
    // Expired approvals no longer count; they are dropped so the approver can approve afresh.
    for (const a of stale) {
      await tx.query('DELETE FROM payment_order_approvals WHERE order_id = $1 AND approver_id = $2', [
        order.id,
        a.approver.id,
      ]);
      await deps.audit(tx, {
        actor: 'system',
        action: 'payment-order.approval-expired',
        resourceType: 'payment-order',
        resourceId: order.id,
        details: {
          approverId: a.approver.id,
          approvedAt: a.approvedAt.toISOString(),
          validForHours: deps.policy.approvalValidForHours,
        },
      });
    }
    const current = existing.filter((a) => !isExpired(deps, a));
    const now = deps.clock.now();
    const evaluation = await evaluate(deps, tx, order);
    const decision = decideApproval(
      { id: order.id, createdBy: order.created_by },
      [
        ...current,
        { approver: { id: approver.id, kind: approver.kind, roles: [...approver.roles] }, approvedAt: now },
      ],
      {
        requirement: deriveRequirement(evaluation),
        approvalValidForHours: deps.policy.approvalValidForHours,
        now,
      },
    );
    if (!decision.ok) {
      // The refusal itself is evidence worth keeping, but in its own record, after this rollback.
      throw new ConflictError(decision.error.reason, {
        code: decision.error.code,
        details: { orderId: order.id, approverId: decision.error.approverId, denial: decision.error.code },
      });
    }
    await tx.query(
      'INSERT INTO payment_order_approvals (order_id, approver_id, approver_kind, roles, approved_at) VALUES ($1, $2, $3, $4::jsonb, $5)',
      [order.id, approver.id, approver.kind, JSON.stringify(approver.roles), now.toISOString()],
    );
    await deps.audit(tx, {
      actor: approver.id,
      action: 'payment-order.approval-recorded',
      resourceType: 'payment-order',
      resourceId: order.id,
      ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
      details: {
        roles: [...approver.roles],
        requiredApprovals: evaluation.requiredApprovals,
        requiredRoles: evaluation.requiredRoles,
        status: decision.value.status,
      },
    });
    const status = decision.value;
    if (status.status === 'approved') {
      await transitionOrder(deps, tx, {
        orderId: order.id,
        to: 'approved',
        actor: approver.id,
        correlationId: input.correlationId,
        details: { approvers: status.approvers, firedRules: evaluation.firedRules.map((r) => r.rule) },
      });
      return {
        orderId: order.id,
        state: 'approved',
        approvers: status.approvers,
        missingApprovals: 0,
        missingRoles: [],
      };
    }
    return {
      orderId: order.id,
      state: 'pending_approval',
      approvers: status.approvers,
      missingApprovals: status.missingApprovals,
      missingRoles: status.missingRoles,
    };
  });
}

/** Which policy rules fire for the order and why, and where its approvals stand. */
export async function explainPaymentOrder(deps: PaymentRunDeps, orderId: string): Promise<PolicyExplanation> {
  const order = await readOrderRow(deps.db, orderId);
  const { evaluation, approvals, decision } = await checkApprovals(deps, deps.db, order);
  return {
    orderId,
    state: order.state,
    total: toMoneyJson(evaluation.total),
    requiredApprovals: evaluation.requiredApprovals,
    requiredRoles: evaluation.requiredRoles,
    firedRules: evaluation.firedRules,
    approvalValidForHours: deps.policy.approvalValidForHours,
    approvals: approvals.map((a) => ({
      approverId: a.approver.id,
      roles: [...a.approver.roles],
      approvedAt: a.approvedAt.toISOString(),
      expired: isExpired(deps, a),
    })),
    status: decision.ok ? decision.value : { status: 'refused', denial: decision.error },
  };
}
