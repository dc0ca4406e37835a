/**
 * Every route declares who may call it in `config.scope`: a scope such as `statements:read`,
 * or `public` for health and the OpenAPI document. A test enumerates routes to enforce it.
 */

/** `<resource>:<read|write|approve|admin>` or `public`. */
export type RouteScope = 'public' | `${string}:${'read' | 'write' | 'approve' | 'admin'}`;

declare module 'fastify' {
  interface FastifyContextConfig {
    scope?: RouteScope;
  }
}

export {};
