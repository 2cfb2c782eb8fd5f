import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/lib/logger.ts";
import { fileKey, passphraseKey } from "../../src/manager/key-encryption-key.ts";
import { Keyring, KeyringLockedError } from "../../src/manager/keyring.ts";
import { Manager } from "../../src/manager/manager.ts";
import { KEYRING_FILE, unlockKeyring } from "../../src/server/keyring-unlock.ts";
import { openStore } from "../../src/store/index.ts";

const value = new TextEncoder().encode("hunter2, but longer");
const randomKey = () => fileKey(crypto.getRandomValues(new Uint8Array(32)));
/** Few iterations: these tests are about which passphrase opens what, not about its cost. */
const quickPassphrase = (text: string) => passphraseKey(text, 1_000);

describe("sealing", () => {
  test("a value opens under its secret's name and version only, and each seal has its own IV", async () => {
    const keyring = new Keyring(randomKey());
    const ring = await keyring.withNewKey(null, 1);
    const first = await keyring.seal(ring, "db", 1, value);
    const second = await keyring.seal(ring, "db", 1, value);
    expect(first.iv).not.toBe(second.iv);
    expect(first.data).not.toBe(second.data);
    expect(first.data).not.toContain(Buffer.from(value).toString("base64"));
    expect(await keyring.open(ring, "db", 1, first)).toEqual(value);
    await expect(keyring.open(ring, "db", 2, first)).rejects.toThrow("does not decrypt");
    await expect(keyring.open(ring, "other", 1, first)).rejects.toThrow("does not decrypt");
    const flipped = Buffer.from(first.data, "base64");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await expect(keyring.open(ring, "db", 1, { ...first, data: flipped.toString("base64") })).rejects.toThrow("does not decrypt");
  });

  test("a keyring opens with the key-encryption key that sealed it, not with another", async () => {
    const kek = randomKey();
    const ring = await new Keyring(kek).withNewKey(null, 1);
    const sealed = await new Keyring(kek).seal(ring, "db", 1, value);
    // Another manager with the same key (a copy of the keyring file) reads what this one sealed.
    expect(await new Keyring(kek).open(ring, "db", 1, sealed)).toEqual(value);
    const stranger = new Keyring(randomKey());
    await expect(stranger.check(ring)).rejects.toBeInstanceOf(KeyringLockedError);
    await expect(stranger.open(ring, "db", 1, sealed)).rejects.toThrow("its keyring file belongs to another cluster");
  });

  test("managers with the same passphrase open a keyring whichever made it (its salt is kept with it); another passphrase does not", async () => {
    const ring = await new Keyring(quickPassphrase("the right passphrase")).withNewKey(null, 1);
    expect(ring.seal).toMatchObject({ kind: "passphrase", iterations: 1_000 });
    await new Keyring(quickPassphrase("the right passphrase")).check(ring);
    await expect(new Keyring(quickPassphrase("the wrong passphrase")).check(ring)).rejects.toThrow("its passphrase is not the cluster's");
    await expect(new Keyring(randomKey()).check(ring)).rejects.toThrow("sealed by a passphrase");
  });

  test("rotation: a new key is added and made active; values sealed before still open", async () => {
    const keyring = new Keyring(randomKey());
    const ring = await keyring.withNewKey(null, 1);
    const old = await keyring.seal(ring, "db", 1, value);
    const rotated = await keyring.withNewKey(ring, 2);
    expect(rotated.keys.map((k) => k.id)).toEqual([ring.active, rotated.active]);
    expect((await keyring.seal(rotated, "db", 2, value)).keyId).toBe(rotated.active);
    expect(await keyring.open(rotated, "db", 1, old)).toEqual(value);
  });
});

describe("unlocking at start", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cube-keyring-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const log = createLogger("test", "error");
  const dbPath = () => join(dir, "cube.db");
  const keyFile = () => join(dir, KEYRING_FILE);

  /** Starts a manager on the data dir as the server does, stores a secret, and closes it. */
  async function storeASecret(passphrase?: string): Promise<void> {
    const store = openStore(dbPath());
    const keyEncryptionKey = await unlockKeyring(store, { dataDir: dir, passphrase });
    const manager = new Manager({ store, log, keyEncryptionKey });
    await manager.putSecret("db", value);
    manager.stop();
    store.close();
  }

  /** What a failed start must leave as it was: the database and the key file, byte for byte. */
  const files = () => [dbPath(), keyFile()].map((f) => (statSync(f, { throwIfNoEntry: false }) ? readFileSync(f).toString("base64") : null));

  test("the first start makes the key file (0600); later starts use it", async () => {
    await storeASecret();
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyFile(), "utf8").trim(), "base64")).toHaveLength(32);
    const key = readFileSync(keyFile(), "utf8");
    const store = openStore(dbPath());
    await unlockKeyring(store, { dataDir: dir });
    store.close();
    expect(readFileSync(keyFile(), "utf8")).toBe(key);
  });

  test("a missing key file over sealed secrets is refused, and no new one is made", async () => {
    await storeASecret();
    rmSync(keyFile());
    const before = files();
    const store = openStore(dbPath());
    await expect(unlockKeyring(store, { dataDir: dir })).rejects.toThrow(`its file ${keyFile()} is missing: copy the keyring file`);
    store.close();
    expect(files()).toEqual(before);
    expect(before[1]).toBeNull();
  });

  test("another cluster's key file, or a damaged one, is refused and left as it is", async () => {
    await storeASecret();
    writeFileSync(keyFile(), `${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}\n`, { mode: 0o600 });
    const before = files();
    const store = openStore(dbPath());
    await expect(unlockKeyring(store, { dataDir: dir })).rejects.toThrow("does not open the cluster's keyring");
    writeFileSync(keyFile(), "not a key\n");
    await expect(unlockKeyring(store, { dataDir: dir })).rejects.toThrow("is not a Cube keyring file");
    store.close();
    expect(files()[0]).toEqual(before[0] as string);
  });

  test("a passphrase keyring needs --unlock and the right passphrase; a key-file keyring refuses one", async () => {
    await storeASecret("the right passphrase");
    const store = openStore(dbPath());
    await expect(unlockKeyring(store, { dataDir: dir })).rejects.toThrow("start the manager with --unlock");
    await expect(unlockKeyring(store, { dataDir: dir, passphrase: "the wrong passphrase" })).rejects.toThrow("the passphrase does not open the cluster's keyring");
    await unlockKeyring(store, { dataDir: dir, passphrase: "the right passphrase" });
    store.close();

    const other = mkdtempSync(join(tmpdir(), "cube-keyring-"));
    try {
      const fileStore = openStore(join(other, "cube.db"));
      const manager = new Manager({ store: fileStore, log, keyEncryptionKey: await unlockKeyring(fileStore, { dataDir: other }) });
      await manager.putSecret("db", value);
      await expect(unlockKeyring(fileStore, { dataDir: other, passphrase: "any passphrase at all" })).rejects.toThrow("start the manager without --unlock");
      manager.stop();
      fileStore.close();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 20_000);
});
