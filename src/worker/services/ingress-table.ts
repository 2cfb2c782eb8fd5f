import type { IngressView } from "../../model/api-types.ts";

/**
 * Ingress routes by host, each host's paths longest first: a request goes to the longest path that
 * is a whole-segment prefix of its own (`/api` matches `/api` and `/api/v1`, not `/apis`).
 */
export class IngressTable {
  private readonly byHost = new Map<string, IngressView[]>();

  constructor(routes: readonly IngressView[]) {
    for (const route of routes) {
      const list = this.byHost.get(route.host) ?? [];
      list.push(route);
      this.byHost.set(route.host, list);
    }
    for (const list of this.byHost.values()) list.sort((a, b) => b.path.length - a.path.length);
  }

  /** The route for a request's Host header (any port dropped, case ignored) and path, or undefined. */
  match(hostHeader: string, path: string): IngressView | undefined {
    return this.byHost.get(hostOf(hostHeader))?.find((r) => underPath(r.path, path));
  }
}

/** `Shop.Example.com:8080` → `shop.example.com`; an IPv6 literal keeps its brackets. */
export function hostOf(hostHeader: string): string {
  const host = hostHeader.trim().toLowerCase();
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "").replace(/\.$/, "");
}

function underPath(prefix: string, path: string): boolean {
  if (prefix === "/" || path === prefix) return true;
  return path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`);
}
