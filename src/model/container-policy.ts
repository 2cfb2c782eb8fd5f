import type { JobSpec } from "./job.ts";
import type { FieldIssue } from "./job-validation-error.ts";

/**
 * What the manager lets tasks ask of their hosts. The default allows nothing beyond an ordinary
 * container: no privileged mode, no host network, no host directories, no added capabilities.
 */
export interface ContainerPolicy {
  privileged: boolean;
  hostNetwork: boolean;
  /** Host directories that may be mounted, as path prefixes; "/" allows any. */
  bindMountPrefixes: string[];
  /** Upper case, without CAP_; "ALL" allows any. */
  capabilities: string[];
}

export const LOCKED_DOWN: ContainerPolicy = { privileged: false, hostNetwork: false, bindMountPrefixes: [], capabilities: [] };

export const ALLOW_LIST_HELP = "privileged, host-network, bind-mounts, bind-mounts:/PATH, cap:NAME, cap:ALL";

/**
 * Reads the manager's `--allow` list. Throws naming the item it does not know.
 * @example parseAllowList(["host-network", "cap:NET_ADMIN"]).capabilities // ["NET_ADMIN"]
 */
export function parseAllowList(items: string[]): ContainerPolicy {
  const policy: ContainerPolicy = { ...LOCKED_DOWN, bindMountPrefixes: [], capabilities: [] };
  for (const item of items.map((i) => i.trim()).filter(Boolean)) {
    if (item === "privileged") policy.privileged = true;
    else if (item === "host-network") policy.hostNetwork = true;
    else if (item === "bind-mounts") policy.bindMountPrefixes.push("/");
    else if (/^bind-mounts:\/[^:]*$/.test(item)) policy.bindMountPrefixes.push(item.slice("bind-mounts:".length).replace(/(.)\/+$/, "$1"));
    else if (/^cap:[A-Za-z_]{1,40}$/.test(item)) policy.capabilities.push(item.slice(4).toUpperCase().replace(/^CAP_/, ""));
    else throw new Error(`--allow: "${item}" is not one of ${ALLOW_LIST_HELP}`);
  }
  return policy;
}

function underPrefix(path: string, prefix: string): boolean {
  return prefix === "/" || path === prefix || path.startsWith(`${prefix}/`);
}

/** Every field of the job that the policy does not allow, with the flag that would allow it. */
export function policyIssues(spec: JobSpec, policy: ContainerPolicy): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const refuse = (path: string, what: string, allow: string) => issues.push({ path, message: `${what} is not allowed on this cluster (the manager allows it with --allow=${allow})` });
  spec.tasks.forEach((t, i) => {
    if (t.privileged && !policy.privileged) refuse(`tasks[${i}].privileged`, "a privileged container", "privileged");
    if (t.networkMode === "host" && !policy.hostNetwork) refuse(`tasks[${i}].network_mode`, "the host's network", "host-network");
    t.capAdd?.forEach((cap, j) => {
      if (!policy.capabilities.includes(cap) && !policy.capabilities.includes("ALL")) refuse(`tasks[${i}].cap_add[${j}]`, `capability ${cap}`, `cap:${cap}`);
    });
    t.mounts?.forEach((m, j) => {
      if (!policy.bindMountPrefixes.some((p) => underPrefix(m.source, p))) refuse(`tasks[${i}].mounts[${j}].source`, `mounting the host's ${m.source}`, "bind-mounts");
    });
  });
  return issues;
}
