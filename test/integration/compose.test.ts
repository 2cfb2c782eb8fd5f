import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobDetail, TaskView } from "../../src/model/api-types.ts";
import { docker, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { uniqueJobName } from "../support/local-cluster.ts";
import { ProcessCluster } from "../support/process-cluster.ts";
import { cube, requireBinary } from "../support/processes.ts";
import { jobWhen, waitFor } from "../support/wait-for.ts";

let cluster: ProcessCluster;
const dir = mkdtempSync(join(tmpdir(), "cube-compose-it-"));
const jobs: string[] = [];
/** The compiled CLI against the cluster, with its management token; `env` adds variables (compose interpolation). */
const cli = (args: string[], env: Record<string, string> = {}) => cube(args, { CUBE_ADDR: `http://127.0.0.1:${cluster.port}`, CUBE_TOKEN: cluster.managementToken, ...env });

/** Writes a compose project: its directory (named after the job) holds compose.yaml and any other files given. */
function project(name: string, files: Record<string, string>): string {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(at, file), text);
  jobs.push(name);
  return join(at, "compose.yaml");
}

beforeAll(async () => {
  requireBinary();
  await requireDocker();
  cluster = await ProcessCluster.start({ workers: ["cmp-w1", "cmp-w2"] });
});

afterAll(async () => {
  await cluster?.close();
  // The named volumes the jobs made stay on the engine by design: the test removes its own.
  for (const job of jobs) {
    const { Volumes } = await docker.listVolumes({ filters: { label: [`cube.job=${job}`] } });
    for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

const SHOP = `
services:
  db:
    image: \${DB_IMAGE:-${TEST_IMAGE}}
    # Ready two seconds after it starts, so the api has something to wait for.
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 2; touch /data/ready; while true; do sleep 1; done"]
    volumes: ["dbdata:/data"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /data/ready"]
      interval: 500ms
      retries: 30
    deploy:
      resources: { limits: { cpus: "0.05", memory: 16M } }
  api:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    environment:
      GREETING: "\${GREETING}"
      DB_URL: "db:\${DB_PORT:-5432}"
    secrets: [api_token]
    depends_on:
      db: { condition: service_healthy }
    deploy:
      resources: { limits: { cpus: "0.05", memory: 16M } }
  web:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo hello from $$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["80"]
    networks: [front]
    deploy:
      replicas: 2
      resources: { limits: { cpus: "0.05", memory: 16M } }
volumes:
  dbdata: {}
networks:
  front: {}
secrets:
  api_token: { external: true }
`;

const byGroup = (job: JobDetail, group: string) => job.tasks.filter((t) => t.group === group && t.jobVersion === job.version && t.desired === "running" && t.state === "running");

describe("a compose file run as a job, on real processes and a real engine", () => {
  let name = "";
  let file = "";

  test("db, then api once db is healthy, then web twice answering on its ports; unsupported keys warned; interpolation from the environment and .env; a Cube secret as the file Compose puts it", async () => {
    name = uniqueJobName("shop");
    file = project(name, { "compose.yaml": SHOP, ".env": "GREETING=from-dotenv\nDB_PORT=6000\n", "token.txt": "t0ken-value" });
    const put = await cli(["secret", "put", "api_token", "--from-file", join(dir, name, "token.txt")]);
    expect(put.exitCode).toBe(0);
    const run = await cli(["run", file, "--timeout", "120s"], { DB_PORT: "7000" });
    expect(run.stderr).toContain("warning: Cube does not support these compose keys and leaves them out: networks, services.web.networks (--strict refuses the file instead)");
    expect(run.stdout).toContain(`job ${name} created`);
    expect(run.exitCode).toBe(0);

    const job = await jobWhen(cluster.client, name, "db 1, api 1, web 2 running", (j) => byGroup(j, "db").length === 1 && byGroup(j, "api").length === 1 && byGroup(j, "web").length === 2);
    const [db] = byGroup(job, "db") as [TaskView];
    const [api] = byGroup(job, "api") as [TaskView];
    // api waited, saying for what, and was placed only after db's check passed.
    const dbEvents = (await cluster.client.getTask(db.id)).events;
    const apiEvents = (await cluster.client.getTask(api.id)).events;
    const healthyAt = dbEvents.find((e) => e.message === "health check passing")?.at as number;
    expect(healthyAt).toBeGreaterThan(0);
    expect(apiEvents[0]?.message).toStartWith("waiting for db to be healthy");
    const placedAt = apiEvents.find((e) => e.state === "scheduled")?.at as number;
    expect(placedAt).toBeGreaterThanOrEqual(healthyAt);

    // The environment wins over .env; ${VAR} from .env; ${VAR:-default} not needed when set.
    const env = await cli(["exec", `${name}.api.0`, "--", "sh", "-c", 'echo "$GREETING $DB_URL"']);
    expect(env.stdout).toBe("from-dotenv db:7000\n");
    expect((await cli(["exec", `${name}.api.0`, "--", "cat", "/run/secrets/api_token"])).stdout).toBe("t0ken-value");

    for (const t of byGroup(job, "web")) {
      const port = t.hostPorts["port-80"] as number;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toStartWith("hello from ");
    }
    // The job's other services reach web by its compose name.
    const fromApi = await waitFor("web by its bare name from api", async () => {
      // busybox's static wget crashes with -T, so timeout(1) bounds it.
      const r = await cli(["exec", `${name}.api.0`, "--", "sh", "-c", "rm -f /tmp/answer; timeout 5 wget -q -O /tmp/answer http://web/ && cat /tmp/answer"]);
      return r.exitCode === 0 ? r.stdout : undefined;
    }, 30_000, 500);
    expect(fromApi).toStartWith("hello from ");
  }, 180_000);

  test("the db's named volume keeps a file written before an update of its image, on the same node; cube volume list shows it and rm is refused while it is used", async () => {
    const before = byGroup(await cluster.client.getJob(name), "db")[0] as TaskView;
    const write = await cli(["exec", `${name}.db.0`, "--", "sh", "-c", "echo kept > /data/kept"]);
    expect(write.exitCode).toBe(0);
    const imageId = (await docker.getImage(TEST_IMAGE).inspect()).Id;
    const update = await cli(["run", file, "--timeout", "120s"], { DB_IMAGE: imageId });
    expect(update.stdout).toContain(`job ${name} updated to version 2`);
    expect(update.exitCode).toBe(0);
    const after = byGroup(await cluster.client.getJob(name), "db")[0] as TaskView;
    expect(after.id).not.toBe(before.id);
    expect(after.nodeId).toBe(before.nodeId);
    const read = await cli(["exec", `${name}.db.0`, "--", "cat", "/data/kept"]);
    expect(read.stdout).toBe("kept\n");

    const list = await cli(["volume", "list", "--job", name]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${name}\\s+dbdata\\s+${after.nodeName}\\s+\\d+(\\.\\d)? (B|KiB)\\s+\\S+\\s+${name}\\.db\\.0`));
    const refused = await cli(["volume", "rm", name, "dbdata"]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`volume dbdata of job ${name} is in use by ${name}.db.0 on node ${after.nodeName}`);
    const status = await cli(["status", name]);
    expect(status.stdout).toContain(`volume dbdata on node ${after.nodeName}\n`);
  }, 180_000);

  test("inspect --format=compose writes a file cube run takes back as the same job", async () => {
    const inspect = await cli(["job", "inspect", name, "--format=compose"]);
    expect(inspect.exitCode).toBe(0);
    const again = project(`${name}-copy`, { "compose.yaml": inspect.stdout });
    const rerun = await cli(["run", again, "--detach"]);
    expect(rerun.stdout).toContain(`job ${name} unchanged (version 2)`);
  }, 60_000);

  test("once the job is stopped, cube volume rm removes the volume", async () => {
    await cluster.client.stopJob(name);
    await jobWhen(cluster.client, name, "every task stopped", (j) => j.tasks.every((t) => ["stopped", "completed", "failed"].includes(t.state)));
    const removed = await waitFor("the volume removed", async () => {
      const r = await cli(["volume", "rm", name, "dbdata"]);
      return r.exitCode === 0 ? r.stdout : undefined;
    });
    expect(removed).toMatch(new RegExp(`^volume dbdata of job ${name} removed from node cmp-w[12]\\n$`));
    expect((await docker.listVolumes({ filters: { label: [`cube.job=${name}`] } })).Volumes ?? []).toEqual([]);
  }, 60_000);
});

test("--strict refuses a file with unsupported keys, naming them; a dependency cycle is refused naming it; so is a secret Cube does not have", async () => {
  const strict = project(uniqueJobName("strict"), { "compose.yaml": `services:\n  web:\n    image: ${TEST_IMAGE}\n    build: .\n    links: [db]\n` });
  const refused = await cli(["run", strict, "--strict"]);
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toContain("uses what Cube does not support: services.web.build, services.web.links");

  const cycle = project(uniqueJobName("cycle"), { "compose.yaml": `services:\n  a: { image: ${TEST_IMAGE}, depends_on: [b] }\n  b: { image: ${TEST_IMAGE}, depends_on: [c] }\n  c: { image: ${TEST_IMAGE}, depends_on: [a] }\n` });
  const run = await cli(["run", cycle]);
  expect(run.exitCode).toBe(1);
  expect(run.stderr).toContain("depends_on forms a cycle: a → b → c → a");

  const unknown = project(uniqueJobName("nosecret"), { "compose.yaml": `services:\n  web: { image: ${TEST_IMAGE}, secrets: [nope] }\nsecrets:\n  nope: { external: true }\n` });
  const refusedSecret = await cli(["run", unknown]);
  expect(refusedSecret.exitCode).toBe(1);
  expect(refusedSecret.stderr).toContain("secret nope does not exist (an admin makes it with: cube secret put nope -)");
}, 60_000);

/** Compose files of the shapes public example repositories have, each with the warnings cube plan must give. */
const CORPUS: { name: string; file: string; warnings: string[] }[] = [
  {
    name: "web-db-cache",
    file: `
version: "3.9"
services:
  web:
    image: ${TEST_IMAGE}
    command: httpd -f -p 8000
    ports: ["8000:8000"]
    environment:
      DATABASE_URL: postgres://app:\${POSTGRES_PASSWORD:-example}@db:5432/app
      REDIS_URL: redis://cache:6379
    depends_on:
      db: { condition: service_healthy }
      cache: { condition: service_started }
    restart: unless-stopped
  db:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    environment: [POSTGRES_USER=app, "POSTGRES_PASSWORD=\${POSTGRES_PASSWORD:-example}"]
    volumes: ["db-data:/var/lib/postgresql/data"]
    healthcheck: { test: ["CMD-SHELL", "true"], interval: 10s, timeout: 5s, retries: 5 }
    deploy: { resources: { limits: { memory: 64M } } }
  cache:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    expose: ["6379"]
    volumes: ["cache:/data"]
volumes:
  db-data:
  cache:
`,
    warnings: [],
  },
  {
    name: "worker-queue",
    file: `
services:
  queue:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    expose: ["5672"]
    hostname: rabbit
    networks: [backend]
  worker:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    build: ./worker
    depends_on: [queue]
    deploy:
      replicas: 3
      restart_policy: { condition: on-failure, max_attempts: 5 }
    networks: [backend]
  migrate:
    image: ${TEST_IMAGE}
    command: ["true"]
    restart: "no"
  scheduler:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    depends_on:
      migrate: { condition: service_completed_successfully }
      queue: { condition: service_started }
networks:
  backend:
    driver: bridge
`,
    warnings: [
      "warning: Cube does not support these compose keys and leaves them out: networks, services.queue.hostname, services.queue.networks, services.worker.build, services.worker.networks (--strict refuses the file instead)",
    ],
  },
  {
    name: "reverse-proxy",
    file: `
services:
  proxy:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "80"]
    ports: ["80", "127.0.0.1:443:443", "8443:443/udp"]
    volumes: ["./proxy.conf:/etc/nginx/conf.d/default.conf:ro"]
    depends_on: [app1, app2]
    container_name: edge
  app1:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "5000"]
    expose: ["5000"]
    deploy: { replicas: 2, update_config: { parallelism: 1, failure_action: rollback, delay: 10s } }
  app2:
    image: ${TEST_IMAGE}
    command: ["httpd", "-f", "-p", "5000"]
    expose: ["5000"]
    deploy: { placement: { constraints: ["node.role == worker"] } }
`,
    warnings: [
      "warning: Cube does not support these compose keys and leaves them out: services.app1.deploy.update_config.delay, services.proxy.container_name (--strict refuses the file instead)",
      "warning: services.proxy.ports[1]: published on every address of the node, not only 127.0.0.1",
      "warning: services.proxy.ports[2]: only TCP ports are published (udp left out)",
      'warning: services.app2.deploy.placement.constraints[0]: "node.role == worker" is not supported (only node.labels.KEY, node.hostname and node.id with == or !=): left out',
    ],
  },
];

test.each(CORPUS)("cube plan accepts the $name shape with the right warnings", async ({ name, file, warnings }) => {
  const path = project(uniqueJobName(name), { "compose.yaml": file, "proxy.conf": "" });
  const plan = await cli(["plan", path]);
  // A bind mount needs the manager's --allow, so the proxy's plan is refused by the manager, saying so.
  if (name === "reverse-proxy") {
    expect(plan.stderr).toContain("bind-mounts");
    expect(plan.exitCode).toBe(1);
  } else {
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain("placed");
  }
  expect(plan.stderr.split("\n").filter((l) => l.startsWith("warning: "))).toEqual(warnings);
}, 60_000);
