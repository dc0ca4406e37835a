/** Every route module of the API, registered in this order. Add a capability's module here. */
import { healthRoutes } from './health.ts';
import type { RouteModule } from './types.ts';

export const routeModules: RouteModule[] = [healthRoutes];
