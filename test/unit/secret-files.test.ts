import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ApiClientError } from "../../src/client/api-client.ts";
import type { Assignment } from "../../src/model/api-types.ts";
import type { TaskSecret } from "../../src/model/secret.ts";
import { SecretDelivery, SecretDeliveryError } from "../../src/worker/secret-delivery.ts";
import { SecretFiles } from "../../src/worker/secret-files.ts";
import { makeTaskSpec } from "./fixtures.ts";

const TMPFS_MAGIC = 0x01021994;
const roots: string[] = [];
/** A root of its own on the machine's tmpfs, removed after the test. */
function tmpfsRoot(): string {
  const root = `/dev/shm/cube-secrets-test-${crypto.randomUUID()}`;
  roots.push(root);
  return root;
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const NODE = "node-1";
const TASK = "0b6f1c2e-0000-4000-8000-000000000001";
const bytes = (text: string) => new TextEncoder().encode(text);

describe("secret files", () => {
  test("values go to ROOT/NODE/TASK/NAME, files 0400 in directories 0700, and come back as written", () => {
    expect(statfsSync("/dev/shm").type).toBe(TMPFS_MAGIC);
    const root = tmpfsRoot();
    mkdirSync(root, { mode: 0o777 });
    chmodSync(root, 0o777);
    const files = new SecretFiles(root, () => NODE);
    expect(files.read(TASK, ["db"])).toBeNull();
    files.write(TASK, [{ name: "db", value: bytes("hunter2") }, { name: "tls.key", value: new Uint8Array([0, 255, 10]) }]);
    const path = files.path(TASK, "db");
    expect(path).toBe(join(root, NODE, TASK, "db"));
    expect(statSync(path).mode & 0o777).toBe(0o400);
    expect(statSync(join(root, NODE, TASK)).mode & 0o777).toBe(0o700);
    // A root that was open to others is closed before anything is written in it.
    expect(statSync(root).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, "utf8")).toBe("hunter2");
    expect(files.read(TASK, ["db", "tls.key"])).toEqual(new Map([["db", bytes("hunter2")], ["tls.key", new Uint8Array([0, 255, 10])]]));
    expect(files.read(TASK, ["db", "missing"])).toBeNull();
  });

  test("a task's values go with it; a sweep removes every task's but those kept; other nodes' are not touched", () => {
    const root = tmpfsRoot();
    const files = new SecretFiles(root, () => NODE);
    const neighbour = new SecretFiles(root, () => "node-2");
    for (const task of ["t1", "t2", "t3"]) files.write(task, [{ name: "db", value: bytes(task) }]);
    neighbour.write("t9", [{ name: "db", value: bytes("t9") }]);
    files.remove("t1");
    expect(files.sweep(new Set(["t3"]))).toEqual(["t2"]);
    expect(readdirSync(join(root, NODE))).toEqual(["t3"]);
    expect(existsSync(neighbour.path("t9", "db"))).toBe(true);
  });

  test("nothing is written on a root that is not a tmpfs, nor under names that would leave the task's directory", () => {
    expect(statfsSync(process.cwd()).type).not.toBe(TMPFS_MAGIC);
    const onDisk = mkdtempSync(join(process.cwd(), ".secret-files-test-"));
    try {
      const files = new SecretFiles(join(onDisk, "secrets"), () => NODE);
      expect(() => files.write(TASK, [{ name: "db", value: bytes("hunter2") }])).toThrow("is not on a tmpfs: the worker keeps secrets in memory only");
      expect(existsSync(join(onDisk, "secrets", NODE))).toBe(false);
    } finally {
      rmSync(onDisk, { recursive: true, force: true });
    }
    const files = new SecretFiles(tmpfsRoot(), () => NODE);
    expect(() => files.write("../escape", [{ name: "db", value: bytes("x") }])).toThrow("is not a task id and secret name");
    expect(() => files.write(TASK, [{ name: "../../db", value: bytes("x") }])).toThrow("is not a task id and secret name");
  });
});

describe("secret delivery", () => {
  const assignment = (secrets: { name: string; file: string; env?: string }[]): Assignment => ({
    task: { id: TASK } as Assignment["task"],
    spec: makeTaskSpec({ secrets: secrets.map((s) => ({ ...s, version: 1 })) }),
    jobType: "service",
  });
  const given = (values: Record<string, string | Uint8Array>): TaskSecret[] =>
    Object.entries(values).map(([name, value]) => ({ name, version: 1, value: Buffer.from(typeof value === "string" ? bytes(value) : value).toString("base64") }));

  test("fetches once, mounts each file where the task wants it and sets the env it asked for; a restart reads the tmpfs", async () => {
    let fetched = 0;
    const delivery = new SecretDelivery(new SecretFiles(tmpfsRoot(), () => NODE), async () => {
      fetched++;
      return given({ db: "hunter2", key: "k3y" });
    });
    const refs = [{ name: "db", file: "/run/secrets/db", env: "DB_PASSWORD" }, { name: "key", file: "/etc/key" }];
    const first = await delivery.deliver(assignment(refs));
    expect(first).toEqual({
      files: [
        { source: delivery.files.path(TASK, "db"), target: "/run/secrets/db" },
        { source: delivery.files.path(TASK, "key"), target: "/etc/key" },
      ],
      env: { DB_PASSWORD: "hunter2" },
    });
    expect(await delivery.deliver(assignment(refs))).toEqual(first as NonNullable<typeof first>);
    expect(fetched).toBe(1);
    delivery.remove(TASK);
    expect(existsSync(delivery.files.path(TASK, "db"))).toBe(false);
    expect(await delivery.deliver(assignment([]))).toBeUndefined();
  });

  test("a refusal of the manager's is final, its silence is not; a value that is not text cannot be an env", async () => {
    const failing = (err: Error) => new SecretDelivery(new SecretFiles(tmpfsRoot(), () => NODE), () => Promise.reject(err));
    const refs = [{ name: "db", file: "/run/secrets/db" }];
    const refused = await failing(new ApiClientError("task web.http.0 is not assigned to node node-1", 403, "forbidden")).deliver(assignment(refs)).catch((e: SecretDeliveryError) => e);
    expect(refused).toMatchObject({ permanent: true, message: "cannot get the task's secrets from the manager: task web.http.0 is not assigned to node node-1" });
    const away = await failing(new ApiClientError("cannot reach the Cube manager", 0, "refused")).deliver(assignment(refs)).catch((e: SecretDeliveryError) => e);
    expect(away).toBeInstanceOf(SecretDeliveryError);
    expect((away as SecretDeliveryError).permanent).toBe(false);

    const binary = new SecretDelivery(new SecretFiles(tmpfsRoot(), () => NODE), async () => given({ db: new Uint8Array([0xff, 0x00]) }));
    const asEnv = await binary.deliver(assignment([{ name: "db", file: "/run/secrets/db", env: "DB" }])).catch((e: SecretDeliveryError) => e);
    expect(asEnv).toMatchObject({ permanent: true, message: "secret db cannot be given as env DB: its value is not text (take it from its file only)" });
  });
});
