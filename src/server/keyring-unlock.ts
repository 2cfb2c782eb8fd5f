import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBase64, randomBytes, toBase64 } from "../lib/aes-gcm.ts";
import { readSecretFile } from "../lib/secret-file.ts";
import { fileKey, KEY_FILE_BYTES, type KeyEncryptionKey, passphraseKey } from "../manager/key-encryption-key.ts";
import { Keyring } from "../manager/keyring.ts";
import type { Store } from "../store/index.ts";

/** The key file in a manager's data dir (mode 0600): what wraps the keyring's data keys, unless the keyring is sealed by a passphrase. */
export const KEYRING_FILE = "keyring";

const UNCHANGED = "nothing was changed";

/**
 * The key-encryption key a manager starts with, checked against the keyring the store holds before
 * anything else is done: `--unlock`'s passphrase, else the key file in the data dir — made there when
 * the store holds no keyring yet, never over one (a new key would leave every secret sealed for good).
 * Throws, saying what to do, when the key is missing or does not open the keyring; it then has
 * written nothing, to the data dir or the store.
 */
export async function unlockKeyring(store: Store, options: { dataDir: string; passphrase?: string }): Promise<KeyEncryptionKey> {
  const stored = store.getKeyring();
  const file = join(options.dataDir, KEYRING_FILE);
  if (options.passphrase === undefined && stored?.seal.kind === "passphrase") {
    throw new Error(`the cluster's secrets are sealed by a passphrase: start the manager with --unlock (it asks for the passphrase, or reads it from standard input); ${UNCHANGED}`);
  }
  if (options.passphrase !== undefined && stored?.seal.kind === "file") {
    throw new Error(`the cluster's secrets are sealed by a key file, not a passphrase: start the manager without --unlock, with the cluster's keyring file at ${file}; ${UNCHANGED}`);
  }
  let kek: KeyEncryptionKey;
  if (options.passphrase !== undefined) kek = passphraseKey(options.passphrase);
  else {
    const raw = readKeyFile(file);
    if (!raw && stored) {
      throw new Error(
        `the cluster's secrets are sealed by a key-encryption key, and its file ${file} is missing: copy the keyring file from the data dir of another manager of this cluster (or from your backup) and start again; ${UNCHANGED}`,
      );
    }
    kek = fileKey(raw ?? newKeyFile(file));
  }
  if (stored) {
    try {
      await new Keyring(kek).check(stored);
    } catch {
      throw new Error(
        options.passphrase !== undefined
          ? `the passphrase does not open the cluster's keyring (mistyped?); ${UNCHANGED}`
          : `the key-encryption key in ${file} does not open the cluster's keyring: it belongs to another cluster, or was replaced; put back the keyring file the cluster's secrets were sealed with; ${UNCHANGED}`,
      );
    }
  }
  return kek;
}

function readKeyFile(file: string): Uint8Array | null {
  const text = readSecretFile(file);
  if (text === null) return null;
  const raw = fromBase64(text);
  if (raw.length !== KEY_FILE_BYTES) throw new Error(`${file} is not a Cube keyring file (it holds ${KEY_FILE_BYTES} random bytes in base64); ${UNCHANGED}`);
  return raw;
}

/** A new random key in a new file, readable by its owner only; an existing file is never written over. */
function newKeyFile(file: string): Uint8Array {
  const raw = randomBytes(KEY_FILE_BYTES);
  writeFileSync(file, `${toBase64(raw)}\n`, { mode: 0o600, flag: "wx" });
  return raw;
}
