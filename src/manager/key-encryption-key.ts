import { deriveKeyEncryptionKey, importKeyEncryptionKey, passphraseMaterial, randomBytes, toBase64 } from "../lib/aes-gcm.ts";
import type { KeyringSeal, StoredKeyring } from "../model/secret.ts";

/** PBKDF2-SHA-256 iterations for a new passphrase keyring (OWASP's figure for it, 2023); kept with the keyring, so it can grow. */
export const PASSPHRASE_ITERATIONS = 600_000;

/** Bytes of a key file's key (AES-256). */
export const KEY_FILE_BYTES = 32;

/**
 * What wraps the keyring's data keys, as a manager holds it. A key file's key is the same for any
 * keyring. A passphrase's key depends on the keyring's salt, so the manager keeps the passphrase (as
 * non-extractable PBKDF2 input) and derives the key of the keyring it meets: one another manager made
 * included, so managers started with the same passphrase agree whichever of them made the keyring.
 */
export interface KeyEncryptionKey {
  readonly kind: KeyringSeal["kind"];
  /** The key that opens `keyring`, or that seals a new one (null), with how it seals, to keep with the keyring. */
  keyFor(keyring: StoredKeyring | null): Promise<{ key: CryptoKey; seal: KeyringSeal }>;
}

/** Why this key cannot open a keyring at all: it is sealed the other way. */
function otherKind(keyring: StoredKeyring, mine: KeyringSeal["kind"]): Error | null {
  if (keyring.seal.kind === mine) return null;
  return new Error(
    keyring.seal.kind === "passphrase"
      ? "the cluster's keyring is sealed by a passphrase, and this manager has a key file instead (start it with --unlock)"
      : "the cluster's keyring is sealed by a key file (the keyring file in the managers' data dirs), and this manager has a passphrase instead (start it without --unlock)",
  );
}

/** The key of a key file: 32 random bytes. */
export function fileKey(raw: Uint8Array): KeyEncryptionKey {
  const key = importKeyEncryptionKey(raw);
  return {
    kind: "file",
    async keyFor(keyring) {
      const refused = keyring && otherKind(keyring, "file");
      if (refused) throw refused;
      return { key: await key, seal: { kind: "file" } };
    },
  };
}

/** The key a passphrase gives a keyring: derived with the keyring's salt, or with one made for a new keyring. */
export function passphraseKey(passphrase: string, iterations = PASSPHRASE_ITERATIONS): KeyEncryptionKey {
  const material = passphraseMaterial(passphrase);
  const derived = new Map<string, Promise<CryptoKey>>();
  const fresh: KeyringSeal = { kind: "passphrase", salt: toBase64(randomBytes(16)), iterations };
  const derive = (seal: Extract<KeyringSeal, { kind: "passphrase" }>) => {
    const id = `${seal.salt}/${seal.iterations}`;
    let key = derived.get(id);
    if (!key) derived.set(id, (key = material.then((m) => deriveKeyEncryptionKey(m, seal.salt, seal.iterations))));
    return key;
  };
  return {
    kind: "passphrase",
    async keyFor(keyring) {
      const refused = keyring && otherKind(keyring, "passphrase");
      if (refused) throw refused;
      const seal = keyring?.seal ?? fresh;
      return { key: await derive(seal as Extract<KeyringSeal, { kind: "passphrase" }>), seal };
    },
  };
}
