/**
 * Secrets: values a task gets as a file (and, when asked, as an environment variable), kept by the
 * manager encrypted (AES-256-GCM) under data keys that a key-encryption key wraps. These are the
 * shapes the store keeps and the API shows; no shape here ever carries a plaintext, except the one
 * a worker fetches for a task assigned to it (TaskSecret).
 */

/** A secret's name is a file name and a path segment as it is: no '/', never '.' or '..'. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const SECRET_NAME_RULE = "secret names are 1-63 letters, digits, '_', '-' or '.', starting with a letter or digit";

/** Largest value a secret may hold (Nomad's variables allow 64 KiB too). */
export const MAX_SECRET_BYTES = 64 * 1024;

/** Where a task's secret appears when its job file gives no `file`. */
export const secretFileDefault = (name: string) => `/run/secrets/${name}`;

/** A value encrypted with AES-256-GCM under the keyring's data key `keyId`; iv and data in base64. */
export interface SealedValue {
  keyId: string;
  iv: string;
  data: string;
}

export interface SecretVersion {
  version: number;
  createdAt: number;
  sealed: SealedValue;
}

/** A secret as the store keeps it: its current version, and every version still kept, oldest first. */
export interface StoredSecret {
  name: string;
  /** The current version (the newest). */
  version: number;
  createdAt: number;
  updatedAt: number;
  versions: SecretVersion[];
}

/**
 * What wraps the keyring's data keys: a random key in a file of each manager's data dir, or a key
 * derived from a passphrase (PBKDF2-SHA-256 with this salt and count), the same on every manager.
 */
export type KeyringSeal = { kind: "file" } | { kind: "passphrase"; salt: string; iterations: number };

/** A data key (AES-256-GCM), wrapped by the key-encryption key; iv and data in base64. */
export interface WrappedDataKey {
  id: string;
  createdAt: number;
  iv: string;
  data: string;
}

/** The data keys that seal the secrets, as the store keeps them: wrapped, never in the clear. */
export interface StoredKeyring {
  seal: KeyringSeal;
  /** The key new values are sealed with; the others are kept while some value is still sealed with them. */
  active: string;
  keys: WrappedDataKey[];
}

/** A secret as the API shows it: names, versions and times, never a value. */
export interface SecretView {
  name: string;
  version: number;
  createdAt: number;
  updatedAt: number;
  /** The versions still kept (the current one, and those some stored job version still names), oldest first. */
  versions: number[];
  /** Running jobs whose current version uses it. */
  usedBy: string[];
}

/** What `PUT /v1/secrets/:name` answers: `rolled` names the jobs that got a new version for the new value. */
export interface SecretPutResult {
  secret: SecretView;
  created: boolean;
  /** False when the value was the current one's: nothing was stored. */
  changed: boolean;
  rolled: string[];
}

/** What `POST /v1/keyring/rotate` answers. */
export interface KeyringRotation {
  /** The new data key, which seals every kept value now. */
  activeKey: string;
  /** Secret versions sealed again under it. */
  resealed: number;
}

/** A task's secret as its worker fetches it (`GET /v1/nodes/:id/tasks/:taskId/secrets`): the value in base64. */
export interface TaskSecret {
  name: string;
  version: number;
  value: string;
}
