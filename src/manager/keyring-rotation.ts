import { ConflictError } from "../lib/errors.ts";
import { canonicalJson } from "../store/canonical-json.ts";
import type { KeyringRotation, SealedValue, StoredSecret } from "../model/secret.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import type { Keyring } from "./keyring.ts";

/** Secrets per commit (one etcd operation each: a commit fits one etcd transaction). */
const SECRETS_PER_COMMIT = 100;
const ROTATE_ATTEMPTS = 3;

/** Which stored value a new seal replaces: the same secret, version and IV (a value put meanwhile has another). */
const sealedId = (name: string, version: number, sealed: SealedValue) => `${name}\u0000${version}\u0000${sealed.iv}`;

/**
 * `cube keyring rotate`: a new data key becomes the active one and every kept secret version is
 * sealed again under it; the keys nothing is sealed with any more leave the keyring. On SQLite it
 * is one transaction. On etcd each commit must fit one etcd transaction, so a keyring of many secrets
 * is rotated in steps, each whole: the new key first (the old ones stay), then the secrets a hundred at
 * a time, then the old keys go — every value opens at every step, and a rotation cut short is finished
 * by the next.
 */
export async function rotateKeyring(ctx: ManagerContext, keyring: Keyring): Promise<KeyringRotation> {
  for (let attempt = 1; ; attempt++) {
    const result = await tryRotate(ctx, keyring);
    if (result) return result;
    if (attempt === ROTATE_ATTEMPTS) throw new ConflictError("the keyring kept changing while its secrets were being sealed again; try again");
  }
}

async function tryRotate(ctx: ManagerContext, keyring: Keyring): Promise<KeyringRotation | null> {
  const { store } = ctx;
  const before = store.getKeyring();
  const next = await keyring.withNewKey(before, ctx.now());
  const resealed = new Map<string, SealedValue>();
  for (const secret of store.listSecrets()) {
    for (const { version, sealed } of secret.versions) {
      const value = await keyring.open(next, secret.name, version, sealed);
      resealed.set(sealedId(secret.name, version, sealed), await keyring.seal(next, secret.name, version, value));
    }
  }

  // From here on, no await. Values put meanwhile keep the seal they were given (their key stays in the keyring).
  const now = store.getKeyring();
  if ((now && canonicalJson(now)) !== (before && canonicalJson(before))) return null;
  let count = 0;
  const secrets: StoredSecret[] = store.listSecrets().map((secret) => ({
    ...secret,
    versions: secret.versions.map((v) => {
      const sealed = resealed.get(sealedId(secret.name, v.version, v.sealed));
      if (sealed) count++;
      return sealed ? { ...v, sealed } : v;
    }),
  }));
  const sealing = new Set([next.active, ...secrets.flatMap((s) => s.versions.map((v) => v.sealed.keyId))]);
  const final = { ...next, keys: next.keys.filter((k) => sealing.has(k.id)) };
  const steps: StoredSecret[][] = [];
  for (let i = 0; i === 0 || i < secrets.length; i += SECRETS_PER_COMMIT) steps.push(secrets.slice(i, i + SECRETS_PER_COMMIT));
  ctx.commit.together(() => {
    if (steps.length > 1) {
      const changes = new ChangeSet(ctx.now());
      changes.putKeyring(next);
      ctx.commit(changes);
    }
    steps.forEach((step, i) => {
      const changes = new ChangeSet(ctx.now());
      for (const secret of step) changes.putSecret(secret);
      if (i === steps.length - 1) changes.putKeyring(final);
      ctx.commit(changes);
    });
  });
  ctx.log.info("keyring rotated", { activeKey: next.active, resealed: count, keysDropped: next.keys.length - final.keys.length });
  return { activeKey: next.active, resealed: count };
}
