import { randomBytes } from "node:crypto";
import { newDataKey, openBytes, sealBytes, unwrapDataKey, wrapDataKey } from "../lib/aes-gcm.ts";
import { UnavailableError } from "../lib/errors.ts";
import type { SealedValue, StoredKeyring } from "../model/secret.ts";
import type { KeyEncryptionKey } from "./key-encryption-key.ts";

/** A value's additional data: its secret's name and version, so a value copied to another secret or version does not open. */
const valueContext = (name: string, version: number) => `cube secret ${name} version ${version}`;
const keyContext = (id: string) => `cube data key ${id}`;

/**
 * This manager's key-encryption key does not open the cluster's keyring: it can neither read nor
 * store secrets (a 503, so a worker asks another manager).
 */
export class KeyringLockedError extends UnavailableError {}

/**
 * Seals and opens secret values with the keyring's data keys (AES-256-GCM, a random IV per value,
 * the secret's name and version as additional data). The keyring itself lives in the store, its data
 * keys wrapped by the key-encryption key; a data key once unwrapped is kept in memory by its id (a
 * key never changes under its id, whichever manager made it).
 */
export class Keyring {
  private readonly dataKeys = new Map<string, Promise<CryptoKey>>();

  constructor(private readonly kek: KeyEncryptionKey) {}

  get sealKind(): KeyEncryptionKey["kind"] {
    return this.kek.kind;
  }

  /** Throws KeyringLockedError, saying why, unless this manager's key-encryption key opens the keyring's active data key. */
  async check(keyring: StoredKeyring): Promise<void> {
    await this.dataKey(keyring, keyring.active);
  }

  /**
   * A keyring with a new data key, active from now on: a new keyring (the first secret), or `keyring`
   * with the key added (a rotation; the old keys stay until nothing is sealed with them).
   */
  async withNewKey(keyring: StoredKeyring | null, now: number): Promise<StoredKeyring> {
    const { key: kek, seal } = await this.unlock(keyring);
    const id = `k${randomBytes(6).toString("hex")}`;
    const key = await newDataKey();
    const wrapped = await wrapDataKey(kek, key, keyContext(id));
    return { seal, active: id, keys: [...(keyring?.keys ?? []), { id, createdAt: now, ...wrapped }] };
  }

  /** Seals a secret version's value with the keyring's active data key. */
  async seal(keyring: StoredKeyring, name: string, version: number, value: Uint8Array): Promise<SealedValue> {
    const key = await this.dataKey(keyring, keyring.active);
    return { keyId: keyring.active, ...(await sealBytes(key, value, valueContext(name, version))) };
  }

  /** A secret version's value; throws when it was sealed for another secret or version, or altered. */
  async open(keyring: StoredKeyring, name: string, version: number, sealed: SealedValue): Promise<Uint8Array> {
    const key = await this.dataKey(keyring, sealed.keyId);
    try {
      return await openBytes(key, sealed, valueContext(name, version));
    } catch {
      throw new Error(`the stored value of secret ${name} version ${version} does not decrypt: it was altered, or copied from another secret or version`);
    }
  }

  private async unlock(keyring: StoredKeyring | null): Promise<{ key: CryptoKey; seal: StoredKeyring["seal"] }> {
    try {
      return await this.kek.keyFor(keyring);
    } catch (err) {
      throw locked((err as Error).message);
    }
  }

  private dataKey(keyring: StoredKeyring, id: string): Promise<CryptoKey> {
    let key = this.dataKeys.get(id);
    if (key) return key;
    const wrapped = keyring.keys.find((k) => k.id === id);
    if (!wrapped) return Promise.reject(new Error(`the keyring has no data key ${id}`));
    key = this.unlock(keyring).then(({ key: kek }) =>
      unwrapDataKey(kek, wrapped, keyContext(id)).catch(() => {
        throw locked(this.kek.kind === "file" ? "its keyring file belongs to another cluster" : "its passphrase is not the cluster's");
      }),
    );
    // A key that did not open is asked for again next time (the keyring may have been fixed meanwhile).
    key.catch(() => this.dataKeys.delete(id));
    this.dataKeys.set(id, key);
    return key;
  }
}

function locked(why: string): KeyringLockedError {
  return new KeyringLockedError(
    `this manager cannot open the cluster's keyring: ${why}; it can neither read nor store secrets until it is started with the same keyring file (or passphrase) as the manager that made the keyring`,
  );
}
