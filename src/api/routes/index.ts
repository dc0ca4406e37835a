/** Every route module of the API, registered in this order. Add a capability's module here. */
import { healthRoutes } from './health.ts';
import { auditRoutes } from './audit.ts';
import { identityRoutes, oauthRoutes } from './identities.ts';
import { metricsRoutes } from './metrics.ts';
import { statementRoutes } from './statements.ts';
import { reconciliationRoutes } from './reconciliation.ts';
import { paymentOrderRoutes } from './payment-orders.ts';
import { eventRoutes } from './events.ts';
import type { RouteModule } from './types.ts';

export const routeModules: RouteModule[] = [
  healthRoutes,
  oauthRoutes,
  identityRoutes,
  auditRoutes,
  metricsRoutes,
  statementRoutes,
  paymentOrderRoutes,
  reconciliationRoutes,
  eventRoutes,
];
