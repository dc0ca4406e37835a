import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paymentOrderSchema } from '../../domain/index.ts';
import {
  type Approval,
  type ApprovalDecisionInput,
  type ApproverIdentity,
  decideApproval,
} from './decide.ts';
import { deriveRequirement, evaluateApprovalPolicy } from './evaluate.ts';
import { approvalPolicySchema } from './schema.ts';

const NOW = new Date(1_700_000_000_000);
const HOUR = 3_600_000;
const ORDER = { id: 'ORD-1', createdBy: 'alice', lastModifiedBy: 'bob' };
const ROLES = ['clerk', 'finance-manager', 'controller', 'admin'] as const;
const at = (hoursAgo: number): Date => new Date(NOW.getTime() - hoursAgo * HOUR);
const human = (id: string, roles: string[] = [], scopes?: string[]): ApproverIdentity => ({
  id,
  kind: 'human',
  roles,
  ...(scopes === undefined ? {} : { scopes }),
});
const approve = (approver: ApproverIdentity, hoursAgo = 1): Approval => ({
  approver,
  approvedAt: at(hoursAgo),
});
const decision = (approvals: number, roles: string[] = []): ApprovalDecisionInput => ({
  requirement: { approvals, roles },
  approvalValidForHours: 48,
  now: NOW,
});

/** Every subset of the roles, the empty one included. */
const roleSets: string[][] = Array.from({ length: 1 << ROLES.length }, (_, mask) =>
  ROLES.filter((_, i) => (mask & (1 << i)) !== 0),
);

function outcome(result: ReturnType<typeof decideApproval>): string {
  return result.ok ? result.value.status : result.error.code;
}

void describe('decideApproval: segregation of duties for every role combination', () => {
  for (const roles of roleSets) {
    const label = roles.length === 0 ? 'no roles' : roles.join('+');
    void it(`refuses the creator with ${label}`, () => {
      assert.equal(
        outcome(decideApproval(ORDER, [approve(human('alice', roles, ['admin']))], decision(1))),
        'SOD_CREATOR_CANNOT_APPROVE',
      );
    });
    void it(`refuses the last modifier with ${label}`, () => {
      assert.equal(
        outcome(decideApproval(ORDER, [approve(human('bob', roles))], decision(1))),
        'SOD_CREATOR_CANNOT_APPROVE',
      );
    });
    void it(`refuses a service identity with ${label}`, () => {
      assert.equal(
        outcome(
          decideApproval(
            ORDER,
            [approve({ id: 'svc-odoo', kind: 'service', roles, scopes: ['admin'] })],
            decision(1),
          ),
        ),
        'APPROVER_NOT_HUMAN',
      );
    });
    void it(`refuses the same human twice with ${label}`, () => {
      const carol = human('carol', roles);
      assert.equal(
        outcome(decideApproval(ORDER, [approve(carol, 2), approve(carol, 1)], decision(2))),
        'SOD_DUPLICATE_APPROVER',
      );
    });
    const expected = roles.includes('finance-manager') ? 'approved' : 'APPROVER_MISSING_ROLE';
    void it(`${expected === 'approved' ? 'accepts' : 'refuses'} another human with ${label} where finance-manager is required`, () => {
      assert.equal(
        outcome(
          decideApproval(
            ORDER,
            [approve(human('carol', roles, roles.includes('admin') ? ['admin'] : []))],
            decision(1, ['finance-manager']),
          ),
        ),
        expected,
      );
    });
  }
});

void describe('decideApproval: counting approvals', () => {
  void it('stays pending until N distinct humans approved, naming what is missing', () => {
    const one = decideApproval(ORDER, [approve(human('carol'))], decision(2, ['controller']));
    assert.deepEqual(one, {
      ok: true,
      value: { status: 'pending', approvers: ['carol'], missingApprovals: 1, missingRoles: ['controller'] },
    });
    const two = decideApproval(
      ORDER,
      [approve(human('carol'), 2), approve(human('dave', ['controller']))],
      decision(2, ['controller']),
    );
    assert.deepEqual(two, { ok: true, value: { status: 'approved', approvers: ['carol', 'dave'] } });
  });

  void it('requires the last approver to bring a missing role when only that slot is left', () => {
    const result = decideApproval(
      ORDER,
      [approve(human('carol'), 2), approve(human('erin', ['clerk']))],
      decision(2, ['controller']),
    );
    assert.equal(outcome(result), 'APPROVER_MISSING_ROLE');
    if (!result.ok) {
      assert.equal(result.error.approverId, 'erin');
      assert.match(result.error.reason, /needs an approver with controller/);
    }
  });

  void it('lets one approver cover two required roles', () => {
    assert.equal(
      outcome(
        decideApproval(
          ORDER,
          [approve(human('carol', ['controller', 'cfo'])), approve(human('dave'), 2)],
          decision(2, ['controller', 'cfo']),
        ),
      ),
      'approved',
    );
  });

  void it('does not let an admin role stand in for a required role', () => {
    assert.equal(
      outcome(
        decideApproval(
          ORDER,
          [approve(human('root', ['admin'], ['admin', 'payment-orders:approve']))],
          decision(1, ['controller']),
        ),
      ),
      'APPROVER_MISSING_ROLE',
    );
  });

  void it('treats the order’s last modifier given with the decision like the creator', () => {
    assert.equal(
      outcome(
        decideApproval({ id: 'O', createdBy: 'alice' }, [approve(human('zoe'))], {
          ...decision(1),
          lastModifiedBy: 'zoe',
        }),
      ),
      'SOD_CREATOR_CANNOT_APPROVE',
    );
  });

  void it('checks approvals in time order, whatever order they are passed in', () => {
    const result = decideApproval(
      ORDER,
      [approve(human('dave', ['controller']), 1), approve(human('carol'), 3)],
      decision(2, ['controller']),
    );
    assert.equal(outcome(result), 'approved');
  });
});

void describe('decideApproval: expiry', () => {
  void it('does not count an approval older than the configured lifetime', () => {
    const result = decideApproval(
      ORDER,
      [approve(human('carol'), 49), approve(human('dave'), 1)],
      decision(2),
    );
    assert.equal(outcome(result), 'APPROVAL_EXPIRED');
    if (!result.ok) assert.match(result.error.reason, /carol .* older than 48 hours/);
  });

  void it('counts an approval just inside the lifetime', () => {
    assert.equal(
      outcome(decideApproval(ORDER, [approve(human('carol'), 47.9), approve(human('dave'), 1)], decision(2))),
      'approved',
    );
  });

  void it('accepts a fresh re-approval by the person whose approval expired', () => {
    assert.equal(
      outcome(decideApproval(ORDER, [approve(human('carol'), 60), approve(human('carol'), 1)], decision(1))),
      'approved',
    );
  });

  void it('is approved despite an expired approval when enough fresh ones remain', () => {
    assert.equal(
      outcome(
        decideApproval(
          ORDER,
          [approve(human('carol'), 60), approve(human('dave'), 2), approve(human('erin'), 1)],
          decision(2),
        ),
      ),
      'approved',
    );
  });
});

void describe('evaluate then decide', () => {
  void it('approves a large order only after two distinct humans, one a finance manager, neither the creator', () => {
    const policy = approvalPolicySchema.parse({
      bands: [
        { currency: 'EUR', from: '10000.00', approvals: 2, roles: ['finance-manager'] },
        { currency: 'EUR', to: '10000.00', approvals: 1 },
      ],
      approvalValidForHours: 24,
    });
    const order = paymentOrderSchema.parse({
      id: 'ORD-9',
      entityId: 'de',
      debtorAccountId: 'a',
      executionDate: '2023-11-20',
      currency: 'EUR',
      state: 'pending_approval',
      createdBy: 'alice',
      lines: [
        {
          endToEndId: 'E1',
          vendorId: 'v1',
          vendorName: 'V',
          creditorIban: 'DE89370400440532013000',
          amount: { amount: '25000.00', currency: 'EUR' },
          invoiceIds: ['B1'],
        },
      ],
    });
    const evaluation = evaluateApprovalPolicy(
      order,
      { vendors: { v1: { vendorId: 'v1', createdAt: new Date(0) } } },
      policy,
      NOW,
    );
    const input = {
      requirement: deriveRequirement(evaluation),
      approvalValidForHours: policy.approvalValidForHours,
      now: NOW,
    };
    assert.equal(
      outcome(decideApproval(order, [approve(human('alice', ['finance-manager']))], input)),
      'SOD_CREATOR_CANNOT_APPROVE',
    );
    assert.equal(outcome(decideApproval(order, [approve(human('carol'))], input)), 'pending');
    assert.equal(
      outcome(
        decideApproval(
          order,
          [approve(human('carol'), 2), approve(human('dave', ['finance-manager']))],
          input,
        ),
      ),
      'approved',
    );
  });
});
