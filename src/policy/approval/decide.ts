/**
 * Segregation of duties for payment approvals: who may approve an order and when it counts as
 * approved. No role or scope bypasses these checks, admin included: dual control only means
 * something if nobody can switch it off.
 */
import { ErrorCodes, err, ok, type PaymentOrder, type Result } from '../../domain/index.ts';
import type { ApprovalRequirement } from './schema.ts';

/** The minimal identity the approval rules need; src/policy/identity holds the full one. */
export interface ApproverIdentity {
  id: string;
  kind: 'human' | 'service';
  roles: readonly string[];
  scopes?: readonly string[];
}

/** One recorded approval of an order. */
export interface Approval {
  approver: ApproverIdentity;
  approvedAt: Date;
}

/** What the decision is measured against: the policy's requirement, the approval lifetime and the time now. */
export interface ApprovalDecisionInput {
  requirement: Pick<ApprovalRequirement, 'roles'> & { approvals: number };
  approvalValidForHours: number;
  now: Date;
  /** Who last changed the order (lines, amounts, accounts), when not its creator. */
  lastModifiedBy?: string;
}

/** Why an approval is refused, as a code from the catalogue. */
export type ApprovalDenialCode =
  | typeof ErrorCodes.SOD_CREATOR_CANNOT_APPROVE
  | typeof ErrorCodes.SOD_DUPLICATE_APPROVER
  | typeof ErrorCodes.APPROVER_NOT_HUMAN
  | typeof ErrorCodes.APPROVER_MISSING_ROLE
  | typeof ErrorCodes.APPROVAL_EXPIRED;

/** A refused approval: the code, the reason in words and whose approval it was. */
export interface ApprovalDenial {
  code: ApprovalDenialCode;
  reason: string;
  approverId: string;
}

/** Where an order stands after counting its valid approvals. */
export type ApprovalStatus =
  | { status: 'approved'; approvers: string[] }
  | { status: 'pending'; approvers: string[]; missingApprovals: number; missingRoles: string[] };

/**
 * Checks every approval of `order` in time order against segregation of duties and returns
 * approved, pending (with what is missing) or the first refusal with its reason code.
 */
export function decideApproval(
  order: Pick<PaymentOrder, 'id' | 'createdBy'> & { lastModifiedBy?: string },
  approvals: readonly Approval[],
  decision: ApprovalDecisionInput,
): Result<ApprovalStatus, ApprovalDenial> {
  const validForMs = decision.approvalValidForHours * 3_600_000;
  const needed = decision.requirement.approvals;
  const requiredRoles = [...new Set(decision.requirement.roles)];
  const modifiers = new Set(
    [order.createdBy, order.lastModifiedBy, decision.lastModifiedBy].filter(
      (m): m is string => m !== undefined,
    ),
  );
  const counted: ApproverIdentity[] = [];
  const expired: Approval[] = [];
  const sorted = [...approvals].sort((a, b) => a.approvedAt.getTime() - b.approvedAt.getTime());

  for (const approval of sorted) {
    const who = approval.approver;
    const deny = (code: ApprovalDenialCode, reason: string): Result<ApprovalStatus, ApprovalDenial> =>
      err({ code, reason, approverId: who.id });
    // Service accounts act on someone's behalf; an approval must be a person's own act (four-eyes principle).
    if (who.kind !== 'human')
      return deny(
        ErrorCodes.APPROVER_NOT_HUMAN,
        `${who.id} is a ${who.kind} identity; only humans may approve payments`,
      );
    if (modifiers.has(who.id)) {
      return deny(
        ErrorCodes.SOD_CREATOR_CANNOT_APPROVE,
        `${who.id} created or last changed order ${order.id} and so cannot approve it`,
      );
    }
    if (counted.some((c) => c.id === who.id)) {
      return deny(
        ErrorCodes.SOD_DUPLICATE_APPROVER,
        `${who.id} has already approved order ${order.id}; each approval needs a different person`,
      );
    }
    if (decision.now.getTime() - approval.approvedAt.getTime() >= validForMs) {
      expired.push(approval);
      continue;
    }
    const missingRoles = requiredRoles.filter((r) => !counted.some((c) => c.roles.includes(r)));
    const slotsLeft = needed - counted.length;
    // The last open slot (or any approval beyond N) must bring a missing role; earlier slots may not,
    // since one later approver can hold several required roles.
    if (missingRoles.length > 0 && slotsLeft <= 1 && !missingRoles.some((r) => who.roles.includes(r))) {
      return deny(
        ErrorCodes.APPROVER_MISSING_ROLE,
        `order ${order.id} still needs an approver with ${missingRoles.join(' or ')}; ${who.id} has ${who.roles.length === 0 ? 'no roles' : who.roles.join(', ')}`,
      );
    }
    counted.push(who);
  }

  const approvers = counted.map((c) => c.id);
  const missingRoles = requiredRoles.filter((r) => !counted.some((c) => c.roles.includes(r)));
  const missingApprovals = Math.max(0, needed - counted.length);
  if (missingApprovals === 0 && missingRoles.length === 0) return ok({ status: 'approved', approvers });
  // An approval that lapsed and was not renewed by the same person is why the order is short.
  const stale = expired.filter((e) => !approvers.includes(e.approver.id)).at(-1);
  if (stale !== undefined) {
    return err({
      code: ErrorCodes.APPROVAL_EXPIRED,
      reason: `the approval by ${stale.approver.id} from ${stale.approvedAt.toISOString()} is older than ${decision.approvalValidForHours} hours; order ${order.id} must be approved again`,
      approverId: stale.approver.id,
    });
  }
  return ok({ status: 'pending', approvers, missingApprovals, missingRoles });
}
