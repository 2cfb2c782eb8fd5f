import { afterEach, expect, test } from "bun:test";
import { createLogger } from "../../src/lib/logger.ts";
import { fileKey, passphraseKey } from "../../src/manager/key-encryption-key.ts";
import { KeyringLockedError } from "../../src/manager/keyring.ts";
import { Manager } from "../../src/manager/manager.ts";
import type { KeyEncryptionKey } from "../../src/manager/key-encryption-key.ts";
import { EtcdStore } from "../../src/store/etcd/etcd-store.ts";
import { etcdPerFile } from "../support/etcd-cluster.ts";
import { waitFor } from "../support/wait-for.ts";
import { makeJobSpec } from "../unit/fixtures.ts";

/**
 * Secrets with several managers on one etcd (each its own store, as on separate machines): every
 * manager with the cluster's key-encryption key reads what another sealed, also after a rotation;
 * one with another key says what is wrong instead of answering.
 */
const log = createLogger("secrets-ha-test", "error");
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");
const etcd = etcdPerFile();
const running: { manager: Manager; store: EtcdStore }[] = [];

async function startManager(name: string, keyEncryptionKey: KeyEncryptionKey) {
  const store = await EtcdStore.open({ endpoints: etcd().endpoints, managerName: name, log, leaderTtlSeconds: 2 });
  const manager = new Manager({ store, name, log, keyEncryptionKey });
  manager.start(`http://${name}`);
  running.push({ manager, store });
  return { manager, store };
}

afterEach(async () => {
  for (const { manager, store } of running.splice(0)) {
    manager.stop();
    await store.shutdown();
  }
});

/** A job using the secret, placed by the leader on a node that joined the follower; the task's id once every manager sees it placed. */
async function placedTask(leader: Manager, follower: Manager, others: Manager[]): Promise<{ nodeId: string; taskId: string }> {
  const nodeId = follower.joinNode({ role: "join" }, { name: "n1", address: "http://127.0.0.1:1", datacenter: "dc1", labels: {}, capacity: { cpu: 4, memory: 4096, disk: 1000 }, version: "test" }).node.id;
  follower.submitJob(makeJobSpec("web", [{ secrets: [{ name: "db", file: "/run/secrets/db" }] }]));
  await follower.durable();
  const taskId = await waitFor("the leader to place the task", () => leader.getJob("web").tasks.find((t) => t.nodeId === nodeId)?.id, 10_000, 20);
  for (const m of [follower, ...others]) await waitFor("every manager to see the placement", () => (m.state.tasks.get(taskId)?.nodeId === nodeId ? true : undefined), 10_000, 20);
  return { nodeId, taskId };
}

test("a secret one manager sealed is read by another with the same key file, also after a rotation on a third", async () => {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const a = await startManager("a", fileKey(raw));
  await waitFor("a to lead", () => (a.store.leading ? true : undefined), 5_000, 10);
  const b = await startManager("b", fileKey(raw));
  const c = await startManager("c", fileKey(raw));
  await b.manager.putSecret("db", encode("first value"));
  await b.manager.durable();
  await waitFor("a to hold the secret", () => a.store.getSecret("db") ?? undefined, 5_000, 10);
  const { nodeId, taskId } = await placedTask(a.manager, b.manager, [c.manager]);
  for (const m of [a, b, c]) expect((await m.manager.taskSecrets(nodeId, taskId)).map((s) => decode(s.value))).toEqual(["first value"]);

  const rotation = await c.manager.rotateKeyring();
  await c.manager.durable();
  await waitFor("a and b to hold the rotated keyring", () => ([a, b].every((m) => m.store.getKeyring()?.active === rotation.activeKey) ? true : undefined), 5_000, 10);
  expect(a.store.getKeyring()?.keys.map((k) => k.id)).toEqual([rotation.activeKey]);
  for (const m of [a, b, c]) expect((await m.manager.taskSecrets(nodeId, taskId)).map((s) => decode(s.value))).toEqual(["first value"]);
}, 30_000);

test("managers started with the same passphrase agree whichever made the keyring; a manager with another key answers 503 saying why", async () => {
  const a = await startManager("a", passphraseKey("one passphrase for all", 1_000));
  await waitFor("a to lead", () => (a.store.leading ? true : undefined), 5_000, 10);
  const b = await startManager("b", passphraseKey("one passphrase for all", 1_000));
  const stranger = await startManager("stranger", fileKey(crypto.getRandomValues(new Uint8Array(32))));
  // b makes the keyring, with a salt of its own: a derives its key with that salt.
  await b.manager.putSecret("db", encode("shared value"));
  await b.manager.durable();
  await waitFor("every manager to hold the secret", () => (a.store.getSecret("db") && stranger.store.getSecret("db") ? true : undefined), 5_000, 10);
  const { nodeId, taskId } = await placedTask(a.manager, b.manager, [stranger.manager]);
  expect((await a.manager.taskSecrets(nodeId, taskId)).map((s) => decode(s.value))).toEqual(["shared value"]);

  const refused = await stranger.manager.taskSecrets(nodeId, taskId).then(() => null, (err: Error) => err);
  expect(refused).toBeInstanceOf(KeyringLockedError);
  expect(refused?.message).toContain("the cluster's keyring is sealed by a passphrase");
  const put = await stranger.manager.putSecret("db", encode("from the stranger")).then(() => null, (err: Error) => err);
  expect(put).toBeInstanceOf(KeyringLockedError);
  expect(a.store.getSecret("db")?.version).toBe(1);
}, 30_000);
