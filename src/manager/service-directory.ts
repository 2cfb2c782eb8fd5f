import { ConflictError, NotFoundError } from "../lib/errors.ts";
import type { ClusterEvent, IngressView, ServiceRoutes, ServiceView } from "../model/api-types.ts";
import type { JobSpec } from "../model/job.ts";
import { AssignmentWatch } from "./assignment-watch.ts";
import type { ManagerContext } from "./context.ts";
import { claimsOf, describeEndpoints, type JobServing, jobServing, publishes } from "./service-catalog.ts";

/** Every job is looked at again this often, in case a change was missed (a commit undone and reloaded, say). */
const RESYNC_MS = 30_000;
/** The one key of the route watch: every worker gets the whole catalog. */
const ROUTES = "routes";

const EMPTY: JobServing = { services: [], ingress: [] };

/**
 * The service catalog, kept current per changed job: it follows the event bus (a task, job or node
 * event marks the jobs it concerns), recomputes those jobs' services from the in-memory state
 * (service-catalog.ts) at the next turn of the event loop, publishes a `service` event for each
 * service or route whose endpoints changed, and wakes the workers long-polling the routes. Reads
 * bring it up to date first, so a submit sees the names the one before it claimed.
 */
export class ServiceDirectory {
  private readonly byJob = new Map<string, JobServing>();
  /** "service web" / "ingress host shop.example.com" → the running job that claims it. */
  private readonly claims = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly watch = new AssignmentWatch();
  private routes: ServiceRoutes | null = null;
  private flushSoon: ReturnType<typeof setImmediate> | null = null;
  private resyncTimer: ReturnType<typeof setInterval> | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly ctx: Pick<ManagerContext, "state" | "bus" | "now">) {
    this.unsubscribe = ctx.bus.subscribe((event) => this.notice(event));
    this.resync();
  }

  start(): void {
    this.resyncTimer ??= setInterval(() => this.resync(), RESYNC_MS);
  }

  stop(): void {
    this.unsubscribe();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.resyncTimer = null;
    this.flushSoon = null;
  }

  list(): ServiceView[] {
    return this.current().services;
  }

  get(name: string): ServiceView {
    const found = this.current().services.find((s) => s.name === name);
    if (!found) throw new NotFoundError(`no service ${name}: no running job publishes it (cube services lists them)`);
    return found;
  }

  /** The whole catalog once it changed past `index` (or after waitMs): what workers route by. */
  async watchRoutes(index: string, waitMs: number, signal?: AbortSignal): Promise<ServiceRoutes> {
    this.flush();
    await this.watch.wait(ROUTES, index, waitMs, signal);
    return this.current();
  }

  /** A 409 naming the owner when another running job already claims one of the spec's service names or ingress hosts. */
  refuseTaken(spec: JobSpec): void {
    this.flush();
    const taken = claimsOf(spec).flatMap((claim) => {
      const owner = this.claims.get(claim);
      return owner !== undefined && owner !== spec.name ? [`${claim} belongs to job ${owner}`] : [];
    });
    if (taken.length > 0) throw new ConflictError(`job ${spec.name} cannot be submitted: ${taken.join("; ")} (stop that job, or choose another name)`);
  }

  private notice(event: ClusterEvent): void {
    if (event.type === "service") return;
    if (event.type === "node" && event.node !== undefined) for (const job of this.ctx.state.tasks.jobsOn(event.node)) this.dirty.add(job);
    else if (event.job !== undefined) this.dirty.add(event.job);
    if (this.dirty.size > 0) this.flushSoon ??= setImmediate(() => this.flush());
  }

  private resync(): void {
    for (const job of this.ctx.state.jobNames()) this.dirty.add(job);
    for (const job of this.byJob.keys()) this.dirty.add(job);
    this.flush();
  }

  private current(): ServiceRoutes {
    this.flush();
    if (!this.routes) {
      const all = [...this.byJob.values()];
      const services = all.flatMap((j) => j.services).sort((a, b) => compare(a.name, b.name) || compare(a.job, b.job));
      const ingress = all.flatMap((j) => j.ingress).sort((a, b) => compare(a.host, b.host) || compare(a.path, b.path) || compare(a.job, b.job));
      this.routes = { index: this.watch.current(ROUTES), services: dropRepeated(services), ingress };
    }
    return this.routes;
  }

  /** Recomputes the marked jobs; publishes and wakes the workers if anything they route by changed. */
  private flush(): void {
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushSoon = null;
    if (this.dirty.size === 0) return;
    const jobs = [...this.dirty];
    this.dirty.clear();
    let changed = false;
    for (const job of jobs) changed = this.recompute(job) || changed;
    if (!changed) return;
    this.routes = null;
    this.watch.bump(ROUTES);
  }

  private recompute(name: string): boolean {
    const entry = this.ctx.state.job(name);
    const specs = entry ? [...entry.versions.values()].map((v) => v.spec) : [];
    const next = entry && publishes(specs) ? jobServing({ job: entry.job, tasks: this.ctx.state.tasks.ofJob(name), specOf: (v) => entry.versions.get(v)?.spec, node: (id) => this.ctx.state.node(id) }) : EMPTY;
    this.claim(name, entry?.job.status === "running" ? claimsOf(entry.job.spec) : []);
    const before = this.byJob.get(name) ?? EMPTY;
    if (next === EMPTY) this.byJob.delete(name);
    else this.byJob.set(name, next);
    const services = this.publishChanges(name, before.services, next.services, (s) => s.name, (s) => `service ${s.name}`);
    const routes = this.publishChanges(name, before.ingress, next.ingress, (r) => `${r.host}${r.path}`, (r) => `ingress ${r.host}${r.path}`);
    return services || routes;
  }

  private claim(job: string, claims: string[]): void {
    for (const [claim, owner] of this.claims) if (owner === job && !claims.includes(claim)) this.claims.delete(claim);
    for (const claim of claims) if (!this.claims.has(claim)) this.claims.set(claim, job);
  }

  /** One `service` event per service or route whose endpoints (or tags) changed, appeared or went away. */
  private publishChanges<T extends ServiceView | IngressView>(job: string, before: T[], after: T[], key: (item: T) => string, label: (item: T) => string): boolean {
    const old = new Map(before.map((item) => [key(item), JSON.stringify(item)]));
    let changed = false;
    const at = this.ctx.now();
    const service = (item: T) => ("name" in item ? { service: item.name } : {});
    for (const item of after) {
      const was = old.get(key(item));
      old.delete(key(item));
      if (was === JSON.stringify(item)) continue;
      changed = true;
      this.ctx.bus.publish({ at, type: "service", job, ...service(item), message: describeEndpoints(label(item), item.endpoints) });
    }
    for (const item of before) {
      if (!old.has(key(item))) continue;
      changed = true;
      this.ctx.bus.publish({ at, type: "service", job, ...service(item), message: `${label(item)} removed` });
    }
    return changed;
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A name claimed by one job at a time (refuseTaken); should two ever publish it, the first (by job name) keeps it. */
function dropRepeated(services: ServiceView[]): ServiceView[] {
  return services.filter((s, i) => i === 0 || services[i - 1]?.name !== s.name);
}
