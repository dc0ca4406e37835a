/**
 * Pure decisions of the edge and the control layer: scopes, identity and key rules, and
 * segregation of duties. No I/O and no clock: time is passed in.
 */
export * from './identity/scopes.ts';
export * from './identity/identity.ts';
export * from './segregation-of-duties.ts';
