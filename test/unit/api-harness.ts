import { expect } from "bun:test";
import type { Hono } from "hono";
import { createManagerApp } from "../../src/api/manager-app.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import type { JobDetail, RegisterRequest } from "../../src/model/api-types.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { TestTokens } from "../support/test-tokens.ts";

/**
 * A manager on an in-memory store with its API app, called without sockets (`app.request`), every
 * call carrying the token its route needs. The clock is the harness's own, so tests move time.
 */
export class ApiHarness {
  clock = 1_000_000;
  readonly store: Store = openStore(":memory:");
  readonly manager = new Manager({ store: this.store, log: createLogger("test", "error"), heartbeatTtlMs: 10_000, now: () => this.clock });
  readonly app: Hono = createManagerApp({ manager: this.manager, log: createLogger("test", "error"), version: "test" });
  readonly auth = new TestTokens(this.manager.tokens);

  call(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Response> {
    const headers = this.auth.headers(path);
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      headers["content-type"] = contentType;
    }
    return Promise.resolve(this.app.request(path, init));
  }

  /** Registers a worker node (2 cores, `memory` MiB) and keeps its credential for its later calls. */
  async register(name: string, memory = 1024, extra: Partial<RegisterRequest> = {}): Promise<string> {
    const request: RegisterRequest = { name, address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 2, memory, disk: 1000 }, version: "test", ...extra };
    const res = await this.call("POST", "/v1/nodes/register", request);
    expect(res.status).toBe(200);
    const { node, credential } = (await res.json()) as { node: { id: string }; credential?: string };
    this.auth.remember(node.id, credential);
    return node.id;
  }

  async jobDetail(name: string): Promise<JobDetail> {
    return (await (await this.call("GET", `/v1/jobs/${name}`)).json()) as JobDetail;
  }
}
