/**
 * Scopes are `<resource>:<action>`. `admin` on a resource implies `read` and `write` on it, but
 * never `approve`: approving money movements is a separate grant so that an administrator
 * cannot quietly approve what segregation of duties forbids.
 */

/** Every resource a scope can name. */
export const RESOURCES = [
  'statements',
  'reconciliation',
  'payment-orders',
  'payments',
  'events',
  'dead-letters',
  'webhooks',
  'audit',
  'identities',
  'config',
] as const;

export type Resource = (typeof RESOURCES)[number];

/** Every action a scope can grant. */
export const SCOPE_ACTIONS = ['read', 'write', 'approve', 'admin'] as const;

export type ScopeAction = (typeof SCOPE_ACTIONS)[number];

export type Scope = `${Resource}:${ScopeAction}`;

const SCOPE = /^([a-z-]+):(read|write|approve|admin)$/;

/** True when `value` names a known resource and action. */
export function isScope(value: string): value is Scope {
  const m = SCOPE.exec(value);
  return m !== null && (RESOURCES as readonly string[]).includes(m[1]!);
}

/** Splits a scope into resource and action; undefined when it is not a valid scope. */
export function parseScope(value: string): { resource: Resource; action: ScopeAction } | undefined {
  if (!isScope(value)) return undefined;
  const [resource, action] = value.split(':') as [Resource, ScopeAction];
  return { resource, action };
}

/** The scopes of a list that are not valid, for error messages. */
export function findInvalidScopes(values: readonly string[]): string[] {
  return values.filter((v) => !isScope(v));
}

/** Decides whether granted scopes satisfy a required one (admin ⇒ read+write; approve only when granted). */
export function hasScope(granted: readonly string[], required: Scope): boolean {
  if (granted.includes(required)) return true;
  const need = parseScope(required);
  if (need === undefined) return false;
  if (need.action === 'read' || need.action === 'write') return granted.includes(`${need.resource}:admin`);
  return false;
}
