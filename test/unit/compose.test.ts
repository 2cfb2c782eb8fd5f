import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeOf } from "../../src/cli/compose-export.ts";
import { toJobFile } from "../../src/cli/job.ts";
import { readJobFileArg } from "../../src/cli/job-file-arg.ts";
import { parseCompose } from "../../src/model/compose/compose-schema.ts";
import { type ComposeContext, composeToJob } from "../../src/model/compose/compose-to-job.ts";
import { interpolate } from "../../src/model/compose/interpolate.ts";
import { JobValidationError, parseJobFile, validateJob } from "../../src/model/job-schema.ts";
import { SECRET_NAME_RULE } from "../../src/model/secret.ts";
import { ApiHarness } from "./api-harness.ts";

const ctx: ComposeContext = { name: "app", dir: "/srv/app", env: {}, envFile: () => null, home: "/home/me" };
const image = "cube-test/busybox:latest";

/** The job a compose document (already decoded) becomes, and the notes. */
function convert(doc: Record<string, unknown>, context: Partial<ComposeContext> = {}) {
  const { file, unsupported } = parseCompose(doc);
  return { ...composeToJob(file, { ...ctx, ...context }), unsupported };
}

/** The one task a single-service file becomes, in the job file's notation. */
function taskOf(service: Record<string, unknown>, top: Record<string, unknown> = {}, context: Partial<ComposeContext> = {}): Record<string, unknown> {
  return (convert({ services: { web: { image, ...service } }, ...top }, context).job.tasks as Record<string, unknown>[])[0] as Record<string, unknown>;
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof JobValidationError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe("compose → job, each mapping", () => {
  test("one task group per service, named after it; the job after name:, else the given name", () => {
    const { job } = convert({ name: "Shop_1", services: { db: { image }, "my_api": { image } } });
    expect(job.name).toBe("shop-1");
    expect((job.tasks as { name: string }[]).map((t) => t.name)).toEqual(["db", "my-api"]);
    expect(convert({ services: { db: { image } } }).job).toMatchObject({ name: "app", type: "service" });
  });

  test("image, command and entrypoint (a string is split as a shell splits it)", () => {
    expect(taskOf({ command: `sh -c 'echo "hi there"'`, entrypoint: ["/init"] })).toMatchObject({ image, command: ["sh", "-c", 'echo "hi there"'], entrypoint: ["/init"] });
  });

  test("environment as a map and as a list; a bare name takes the CLI's environment; env_file under it", () => {
    const env = { FROM_SHELL: "s" };
    expect(taskOf({ environment: { A: 1, B: true, FROM_SHELL: null, MISSING: null } }, {}, { env }).env).toEqual({ A: "1", B: "true", FROM_SHELL: "s" });
    expect(taskOf({ environment: ["A=x=y", "FROM_SHELL", "MISSING"] }, {}, { env }).env).toEqual({ A: "x=y", FROM_SHELL: "s" });
    const envFile = (path: string) => (path === "/srv/app/web.env" ? { A: "file", C: "file" } : null);
    expect(taskOf({ env_file: "web.env", environment: { A: "env" } }, {}, { envFile }).env).toEqual({ A: "env", C: "file" });
    expect(issuesOf(() => taskOf({ env_file: ["nope.env"] }))).toEqual(["services.web.env_file: nope.env does not exist"]);
    expect(taskOf({ env_file: [{ path: "nope.env", required: false }] }).env).toBeUndefined();
  });

  test("ports: HOST:CONTAINER fixes the host port, CONTAINER lets the engine pick; each is published as the service JOB-NAME", () => {
    const t = taskOf({ ports: ["8080:80", "9000", { target: 53, published: 5353 }], expose: ["9000", 7000] });
    expect(t.ports).toEqual([
      { name: "port-80", container: 80, host: 8080 },
      { name: "port-9000", container: 9000 },
      { name: "port-53", container: 53, host: 5353 },
      { name: "port-7000", container: 7000 },
    ]);
    expect(t.services).toEqual(["port-80", "port-9000", "port-53", "port-7000"].map((port) => ({ name: "app-web", port })));
    const { notes } = convert({ services: { web: { image, ports: ["127.0.0.1:81:81", "53/udp"] } } });
    expect(notes).toEqual(["services.web.ports[0]: published on every address of the node, not only 127.0.0.1", "services.web.ports[1]: only TCP ports are published (udp left out)"]);
    expect(issuesOf(() => taskOf({ ports: ["3000-3005"] }))).toEqual(['services.web.ports[0]: port ranges are not supported ("3000-3005"): list each port']);
  });

  test("deploy.replicas (or scale) is the count; deploy.mode: global makes a system job", () => {
    expect(taskOf({ deploy: { replicas: 3 } }).count).toBe(3);
    expect(taskOf({ scale: 2 }).count).toBe(2);
    expect(convert({ services: { agent: { image, deploy: { mode: "global" } } } }).job.type).toBe("system");
    expect(issuesOf(() => convert({ services: { agent: { image, deploy: { mode: "global" } }, web: { image } } }))).toEqual([
      "services: Cube runs a compose file as one job of one type: agent is global (one per node) while the others are replicated; split the file",
    ]);
  });

  test("deploy.resources: limits, else reservations, else cpus / mem_limit", () => {
    expect(taskOf({ deploy: { resources: { limits: { cpus: "0.5", memory: "1.5G" }, reservations: { cpus: 0.1, memory: "10M" } } } }).resources).toEqual({ cpu: 0.5, memory: 1536 });
    expect(taskOf({ deploy: { resources: { reservations: { cpus: 0.25, memory: "100k" } } } }).resources).toEqual({ cpu: 0.25, memory: 4 });
    expect(taskOf({ cpus: 2, mem_limit: "256m" }).resources).toEqual({ cpu: 2, memory: 256 });
    expect(issuesOf(() => taskOf({ deploy: { resources: { limits: { memory: "lots" } } } }))).toEqual(['services.web.deploy.resources: memory "lots" is not a size (e.g. 512M, 1G)']);
  });

  test("deploy.placement: constraints on node labels, hostname and id; spread preferences; one replica per node", () => {
    const t = taskOf({ deploy: { placement: { constraints: ["node.labels.disk == ssd", "node.hostname != w3", "node.id==abc"], preferences: [{ spread: "node.labels.zone" }], max_replicas_per_node: 1 } } });
    expect(t.constraints).toEqual([
      { attribute: "node.label.disk", operator: "=", value: "ssd" },
      { attribute: "node.name", operator: "!=", value: "w3" },
      { attribute: "node.id", operator: "=", value: "abc" },
      { attribute: "node.id", operator: "distinct_hosts", value: "true" },
    ]);
    expect(t.spread).toEqual([{ attribute: "node.label.zone" }]);
    const { notes } = convert({ services: { web: { image, deploy: { placement: { constraints: ["node.role == manager"] } } } } });
    expect(notes).toEqual(['services.web.deploy.placement.constraints[0]: "node.role == manager" is not supported (only node.labels.KEY, node.hostname and node.id with == or !=): left out']);
  });

  test("deploy.update_config: parallelism, monitor and failure_action: rollback", () => {
    expect(taskOf({ deploy: { update_config: { parallelism: 2, monitor: "1m30s", failure_action: "rollback" } } }).update).toEqual({ max_parallel: 2, min_healthy_time: "90s", auto_revert: true });
  });

  test("deploy.restart_policy and restart: on-failure, none, attempts, delay, window", () => {
    expect(taskOf({ deploy: { restart_policy: { condition: "on-failure", max_attempts: 5, delay: "2s", window: "2m" } } }).restart).toEqual({ condition: "on-failure", attempts: 5, delay: "2s", interval: "2m" });
    expect(taskOf({ deploy: { restart_policy: { condition: "none" } } }).restart).toEqual({ attempts: 0, condition: "on-failure" });
    expect(taskOf({ restart: "on-failure:4" }).restart).toEqual({ condition: "on-failure", attempts: 4 });
    expect(taskOf({ restart: "no" }).restart).toEqual({ attempts: 0, condition: "on-failure" });
    expect(taskOf({ restart: "unless-stopped" }).restart).toBeUndefined();
  });

  test("healthcheck: CMD, CMD-SHELL (or a string), interval, timeout, retries, start_period; Docker's defaults; NONE and disable", () => {
    expect(taskOf({ healthcheck: { test: ["CMD", "pg_isready", "-U", "app"], interval: "5s", timeout: "1s", retries: 5, start_period: "30s" } }).health).toEqual({
      exec: ["pg_isready", "-U", "app"],
      interval: "5s",
      timeout: "1s",
      failures: 5,
      grace: "30s",
    });
    expect(taskOf({ healthcheck: { test: ["CMD-SHELL", "test -f /ready"] } }).health).toEqual({ exec: ["/bin/sh", "-c", "test -f /ready"], interval: "30s", timeout: "30s", failures: 3 });
    expect(taskOf({ healthcheck: { test: "wget -q localhost" } }).health).toMatchObject({ exec: ["/bin/sh", "-c", "wget -q localhost"] });
    expect(taskOf({ healthcheck: { test: ["NONE"] } }).health).toBeUndefined();
    expect(taskOf({ healthcheck: { test: ["CMD", "true"], disable: true } }).health).toBeUndefined();
  });

  test("cap_add, privileged and labels (a list or a map; deploy.labels too)", () => {
    expect(taskOf({ cap_add: ["NET_ADMIN"], privileged: true, labels: ["team=web"], deploy: { labels: { tier: "front" } } })).toMatchObject({ cap_add: ["NET_ADMIN"], privileged: true, labels: { tier: "front", team: "web" } });
  });

  test("volumes: a named one becomes the task's node-local volume; a path is a bind mount (relative to the file, ~ for home)", () => {
    const t = taskOf({ volumes: ["db-data:/var/lib/pg", "./conf:/etc/app:ro", "~/logs:/logs", { type: "bind", source: "/srv/x", target: "/x", read_only: true }] }, { volumes: { "db-data": {} } });
    expect(t.volumes).toEqual([{ name: "db-data", target: "/var/lib/pg", readonly: false }]);
    expect(t.mounts).toEqual([
      { source: "/srv/app/conf", target: "/etc/app", readonly: true },
      { source: "/home/me/logs", target: "/logs", readonly: false },
      { source: "/srv/x", target: "/x", readonly: true },
    ]);
    expect(issuesOf(() => taskOf({ volumes: ["undeclared:/d"] }))).toEqual(["services.web.volumes[0]: volume undeclared is not declared under the top-level volumes:"]);
    expect(convert({ services: { web: { image, volumes: ["/anon"] } } }).notes).toEqual(["services.web.volumes[0]: anonymous volumes are not supported (name it under the top-level volumes:): left out"]);
  });

  test("secrets: onto Cube's secrets by name as it is, at /run/secrets/ and the target or source; a file or variable source is to be stored first", () => {
    const { job, notes } = convert({
      services: { web: { image, secrets: ["db_pass", { source: "tls", target: "/etc/tls.key" }, { source: "api", target: "api.token" }] } },
      secrets: { db_pass: { file: "./pass.txt" }, tls: { external: true, name: "Shop.tls" }, api: { environment: "API_TOKEN" } },
    });
    expect((job.tasks as Record<string, unknown>[])[0]?.secrets).toEqual([
      { name: "db_pass" },
      { name: "Shop.tls", file: "/etc/tls.key" },
      { name: "api", file: "/run/secrets/api.token" },
    ]);
    // What the job file's defaults make of it: each file where Compose puts it.
    expect(validateJob(job).tasks[0]?.secrets).toEqual([
      { name: "db_pass", file: "/run/secrets/db_pass" },
      { name: "Shop.tls", file: "/etc/tls.key" },
      { name: "api", file: "/run/secrets/api.token" },
    ]);
    expect(notes).toEqual([
      "secrets.db_pass: Cube takes secrets from its own store, not from file ./pass.txt: store it with cube secret put db_pass",
      "secrets.api: Cube takes secrets from its own store, not from variable API_TOKEN: store it with cube secret put api",
    ]);
  });

  test("a secret not declared, or whose name Cube cannot keep, is refused once with its path", () => {
    expect(issuesOf(() => taskOf({ secrets: ["nope"] }))).toEqual(["services.web.secrets[0]: secret nope is not declared under the top-level secrets:"]);
    expect(issuesOf(() => taskOf({ secrets: ["a", "b"] }, { secrets: { a: { external: true, name: "x/y" }, b: { external: true } } }))).toEqual([
      `secrets.a.name: "x/y": ${SECRET_NAME_RULE}`,
    ]);
    expect(issuesOf(() => taskOf({ secrets: ["-b"] }, { secrets: { "-b": { external: true } } }))).toEqual([`services.web.secrets[0]: "-b": ${SECRET_NAME_RULE}`]);
  });

  test("the manager takes a compose file's secrets when Cube has them, and refuses with 400 naming one it does not", async () => {
    const h = new ApiHarness();
    const { job } = convert({ name: "shop", services: { db: { image, secrets: [{ source: "db_pass", target: "/etc/pass" }] } }, secrets: { db_pass: { external: true } } });
    const refused = await h.call("POST", "/v1/jobs", job);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { details: unknown[] } }).error.details).toEqual([
      { path: "tasks[0].secrets[0].name", message: "secret db_pass does not exist (an admin makes it with: cube secret put db_pass -)" },
    ]);
    expect((await h.call("PUT", "/v1/secrets/db_pass", "s3cret", "application/octet-stream")).status).toBe(201);
    expect((await h.call("POST", "/v1/jobs", job)).status).toBe(201);
    expect((await h.jobDetail("shop")).spec.tasks[0]?.secrets).toEqual([{ name: "db_pass", file: "/etc/pass", version: 1 }]);
  });

  test("depends_on, short and long, with the three conditions; an unknown service is refused", () => {
    const { job } = convert({
      services: {
        db: { image },
        migrate: { image },
        cache: { image },
        api: { image, depends_on: { db: { condition: "service_healthy" }, migrate: { condition: "service_completed_successfully" }, cache: {} } },
        web: { image, depends_on: ["api"] },
      },
    });
    const tasks = job.tasks as Record<string, unknown>[];
    expect(tasks[3]?.depends_on).toEqual([
      { task: "db", condition: "healthy" },
      { task: "migrate", condition: "completed" },
      { task: "cache", condition: "started" },
    ]);
    expect(tasks[4]?.depends_on).toEqual([{ task: "api", condition: "started" }]);
    expect(issuesOf(() => convert({ services: { web: { image, depends_on: ["nope"] } } }))).toEqual(["services.web.depends_on: no service nope in this file"]);
  });

  test("a dependency cycle is refused by the job's validation, naming it", () => {
    const { job } = convert({ services: { a: { image, depends_on: ["b"] }, b: { image, depends_on: ["a"] } } });
    expect(issuesOf(() => validateJob(job))).toEqual(["tasks: depends_on forms a cycle: a → b → a"]);
  });

  test("keys Cube does not support are listed by path and left out; x- extensions are not", () => {
    const { unsupported } = convert({ version: "3.8", services: { web: { image, build: ".", networks: ["x"], links: ["db"], network_mode: "host", "x-note": 1, deploy: { endpoint_mode: "vip" } } }, volumes: { v: { driver: "nfs" } }, networks: { x: {} }, "x-common": {} });
    expect(unsupported).toEqual(["networks", "services.web.build", "services.web.deploy.endpoint_mode", "services.web.links", "services.web.network_mode", "services.web.networks", "volumes.v.driver"]);
  });

  test("a service without an image is refused (Cube builds nothing); a malformed field gets its path", () => {
    expect(issuesOf(() => convert({ services: { web: { build: "." } } }))).toEqual([
      "services.web.image: Cube runs images and builds none: give the service an image (build it with docker build and push it with cube image push)",
    ]);
    expect(issuesOf(() => convert({ services: { web: { image, deploy: { replicas: "two" } } } }))).toEqual(["services.web.deploy.replicas: Invalid input: expected number, received string"]);
  });

  test("every converted job is a valid job", () => {
    const { job } = convert({ services: { web: { image, ports: ["80"], deploy: { replicas: 2, restart_policy: { condition: "on-failure" } }, healthcheck: { test: "true" } } } });
    expect(validateJob(job).tasks[0]).toMatchObject({ name: "web", count: 2, services: [{ name: "app-web", port: "port-80", tags: [] }] });
  });
});

describe("interpolation", () => {
  test("${VAR}, $VAR, defaults, alternatives, $$; unset ones are named", () => {
    const { value, unset } = interpolate({ a: "${A}-$B-${C:-c}-${D-d}-${E:+e}-${A:+alt}-$$HOME", list: ["${NOPE}"] }, { A: "1", B: "2", D: "", E: "" });
    expect(value).toEqual({ a: "1-2-c---alt-$HOME", list: [""] });
    expect(unset).toEqual(["NOPE"]);
  });

  test("${VAR:?error} refuses the file with the field's path and the message", () => {
    expect(issuesOf(() => interpolate({ services: { db: { image: "pg:${TAG:?set TAG to the release}" } } }, {}))).toEqual(["services.db.image: TAG is required: set TAG to the release"]);
    expect(issuesOf(() => interpolate({ x: "${EMPTY:?}" }, { EMPTY: "" }))).toEqual(["x: EMPTY is not set or empty"]);
  });
});

describe("compose files through the CLI's reader", () => {
  const dir = mkdtempSync(join(tmpdir(), "cube-compose-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const project = join(dir, "My_Shop");
  mkdirSync(project);
  writeFileSync(join(project, ".env"), "TAG=from-dotenv\nGREETING=dotenv\n");
  writeFileSync(join(project, "compose.yaml"), `services:\n  web:\n    image: "busybox:\${TAG}"\n    environment: { GREETING: "\${GREETING}", MISSING: "\${MISSING_VAR}" }\n    networks: [front]\nnetworks: { front: {} }\n`);

  test("the job's name is the directory's (else --name); .env and the environment interpolate (the environment wins); warnings say what was left out", async () => {
    process.env.GREETING = "from-env";
    try {
      const { text, format, warnings } = await readJobFileArg(join(project, "compose.yaml"));
      expect(format).toBe("json");
      const job = JSON.parse(text);
      expect(job).toMatchObject({ name: "my-shop", tasks: [{ image: "busybox:from-dotenv", env: { GREETING: "from-env", MISSING: "" } }] });
      expect(warnings).toEqual([
        "Cube does not support these compose keys and leaves them out: networks, services.web.networks (--strict refuses the file instead)",
        `not set, so empty: MISSING_VAR (set them in the environment or in ${join(project, ".env")})`,
      ]);
      expect(JSON.parse((await readJobFileArg(join(project, "compose.yaml"), { name: "other" })).text).name).toBe("other");
    } finally {
      delete process.env.GREETING;
    }
  });

  test("--strict refuses a file with unsupported keys, naming them; --name is for compose files only", async () => {
    await expect(readJobFileArg(join(project, "compose.yaml"), { strict: true })).rejects.toThrow("uses what Cube does not support: networks, services.web.networks");
    writeFileSync(join(dir, "job.yaml"), "name: web\ntasks: [{ name: http, image: img }]\n");
    await expect(readJobFileArg(join(dir, "job.yaml"), { name: "x" })).rejects.toThrow("is a job file, not a compose file");
  });

  test("the API takes jobs: a compose file sent there is refused with what to do", () => {
    expect(issuesOf(() => parseJobFile("services: { web: { image: x } }\n"))).toEqual(["services: this is a compose file: cube run FILE and cube plan FILE turn it into a job (the API takes the job)"]);
  });
});

describe("cube job inspect --format=compose", () => {
  test("a job written as a compose file comes back as the same job", () => {
    const spec = validateJob({
      name: "shop",
      datacenters: ["dc1"],
      tasks: [
        { name: "db", image, command: ["sh", "-c", "echo $HOSTNAME costs $$5"], volumes: [{ name: "pgdata", target: "/data" }], health: { exec: ["/bin/sh", "-c", "test -f /data/ready"], interval: "1s", grace: "5s" }, ports: [{ name: "port-5432", container: 5432 }], services: [{ name: "shop-db", port: "port-5432" }] },
        { name: "api", image, count: 2, ports: [{ name: "http", container: 8080, host: 18080 }], health: { http: "/", port: "http" }, depends_on: [{ task: "db", condition: "healthy" }], restart: { condition: "on-failure", mode: "delay" }, constraints: [{ attribute: "node.label.disk", value: "ssd" }], update: { max_parallel: 1, auto_revert: true } },
      ],
    });
    const compose = composeOf(spec, toJobFile(spec));
    expect((compose.services as Record<string, Record<string, unknown>>).db?.["x-cube"]).toBeUndefined();
    expect((compose.services as Record<string, Record<string, unknown>>).api?.["x-cube"]).toMatchObject({ health: { http: "/", port: "http" } });
    // Read back as cube run reads it: `$` was written as `$$`.
    const again = validateJob(convert(interpolate(compose, { HOSTNAME: "not this" }).value as Record<string, unknown>).job);
    expect(again).toEqual(spec);
  });

  test("secrets come back as Compose's (external, as Cube keeps them), without the versions the manager pinned; one given as env under x-cube", () => {
    const file = validateJob({
      name: "shop",
      tasks: [
        { name: "db", image, secrets: [{ name: "db_pass" }, { name: "tls.key", file: "/etc/tls/key" }] },
        { name: "api", image, secrets: [{ name: "db_pass", env: "DB_PASS" }] },
      ],
    });
    // As the API shows a stored job: each secret pinned to a version.
    const spec = { ...file, tasks: file.tasks.map((t) => ({ ...t, secrets: t.secrets?.map((r) => ({ ...r, version: 3 })) })) };
    const compose = composeOf(spec, toJobFile(spec));
    const services = compose.services as Record<string, Record<string, unknown>>;
    expect(compose.secrets).toEqual({ db_pass: { external: true }, "tls.key": { external: true } });
    expect(services.db?.secrets).toEqual(["db_pass", { source: "tls.key", target: "/etc/tls/key" }]);
    expect(services.db?.["x-cube"]).toBeUndefined();
    expect(services.api?.["x-cube"]).toEqual({ secrets: [{ name: "db_pass", file: "/run/secrets/db_pass", env: "DB_PASS" }] });
    expect(validateJob(convert(compose).job)).toEqual(file);
  });
});
