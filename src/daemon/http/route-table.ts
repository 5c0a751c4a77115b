import type { HttpHandler } from './http-types.js';

/** Routes by exact path, or by a prefix ending in `/*` (`/requests/*`); an exact route wins. */
export class RouteTable {
  readonly #routes = new Map<string, Map<string, HttpHandler>>();

  add(method: string, path: string, handler: HttpHandler): void {
    let byMethod = this.#routes.get(path);
    if (!byMethod) {
      byMethod = new Map();
      this.#routes.set(path, byMethod);
    }
    byMethod.set(method.toUpperCase(), handler);
  }

  /** The handlers for `path` by method; undefined when no route matches. */
  find(path: string): ReadonlyMap<string, HttpHandler> | undefined {
    const exact = this.#routes.get(path);
    if (exact) return exact;
    for (const [pattern, byMethod] of this.#routes) {
      if (pattern.endsWith('/*') && path.length > pattern.length - 1 && path.startsWith(pattern.slice(0, -1))) return byMethod;
    }
    return undefined;
  }
}
