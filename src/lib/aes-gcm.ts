/**
 * AES-256-GCM through Web Crypto: a value sealed under a key with a random 96-bit IV and additional
 * data that binds it to where it belongs (sealed for one place, it does not open in another), data
 * keys wrapped by a key-encryption key, and a key-encryption key derived from a passphrase
 * (PBKDF2-SHA-256). Everything crosses the store as base64.
 */

const AES_GCM = { name: "AES-GCM", length: 256 } as const;
const IV_BYTES = 12;

/** A ciphertext (with its GCM tag) and the IV it was made with, in base64. */
export interface Sealed {
  iv: string;
  data: string;
}

const encoder = new TextEncoder();
const toBase64 = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString("base64");
const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

export function randomBytes(count: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(count));
}

/**
 * Encrypts with a fresh random IV; `context` is authenticated with it.
 * @example await sealBytes(key, new TextEncoder().encode("hunter2"), "cube secret db version 1") // { iv, data }
 */
export async function sealBytes(key: CryptoKey, plaintext: Uint8Array, context: string): Promise<Sealed> {
  const iv = randomBytes(IV_BYTES);
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(context) }, key, new Uint8Array(plaintext));
  return { iv: toBase64(iv), data: toBase64(data) };
}

/** Decrypts; throws (a DOMException, OperationError) for another key, another context, or a changed byte. */
export async function openBytes(key: CryptoKey, sealed: Sealed, context: string): Promise<Uint8Array> {
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(sealed.iv), additionalData: encoder.encode(context) }, key, fromBase64(sealed.data));
  return new Uint8Array(plain);
}

/** A new random data key: extractable, so it can be wrapped (used for sealing only once unwrapped again). */
export function newDataKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey(AES_GCM, true, ["encrypt", "decrypt"]);
}

export async function wrapDataKey(kek: CryptoKey, key: CryptoKey, context: string): Promise<Sealed> {
  const iv = randomBytes(IV_BYTES);
  const data = await crypto.subtle.wrapKey("raw", key, kek, { name: "AES-GCM", iv, additionalData: encoder.encode(context) });
  return { iv: toBase64(iv), data: toBase64(data) };
}

/** The data key, not extractable; throws for another key-encryption key or another context. */
export function unwrapDataKey(kek: CryptoKey, wrapped: Sealed, context: string): Promise<CryptoKey> {
  const algorithm = { name: "AES-GCM", iv: fromBase64(wrapped.iv), additionalData: encoder.encode(context) };
  return crypto.subtle.unwrapKey("raw", fromBase64(wrapped.data), kek, algorithm, AES_GCM, false, ["encrypt", "decrypt"]);
}

/** A key-encryption key from 32 raw bytes (a key file). */
export function importKeyEncryptionKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new Uint8Array(raw), AES_GCM, false, ["wrapKey", "unwrapKey"]);
}

/** A passphrase as PBKDF2 input: kept instead of the passphrase's text, so keys can be derived for any salt. */
export function passphraseMaterial(passphrase: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
}

/** The key-encryption key PBKDF2-SHA-256 derives from a passphrase with this salt and count. */
export function deriveKeyEncryptionKey(material: CryptoKey, salt: string, iterations: number): Promise<CryptoKey> {
  return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: fromBase64(salt), iterations }, material, AES_GCM, false, ["wrapKey", "unwrapKey"]);
}

export { fromBase64, toBase64 };
