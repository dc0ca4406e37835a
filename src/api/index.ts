/** The HTTP API: server factory, error rendering, and the route modules of every capability. */
export { buildServer, type BuildServerOptions } from './server.ts';
export { classify, errorBody, handleError, type ErrorBody, type ErrorType } from './errors.ts';
export type { ApiServices, ReadinessCheck } from './deps.ts';
export type { App, RouteModule } from './routes/types.ts';
export type { RouteScope } from './route-config.ts';
