import { toBase64 } from "../lib/aes-gcm.ts";
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from "../lib/errors.ts";
import type { KeyringRotation, SecretPutResult, SecretView, StoredKeyring, StoredSecret, TaskSecret } from "../model/secret.ts";
import { taskName } from "../model/task.ts";
import { isGone } from "../model/task-state.ts";
import { ChangeSet } from "./change-set.ts";
import type { JobEntry } from "./cluster-state.ts";
import type { ManagerContext } from "./context.ts";
import { type Keyring, KeyringLockedError } from "./keyring.ts";
import { rotateKeyring } from "./keyring-rotation.ts";
import { keyOfToken, type Page, type PageRequest, pageOf } from "./paging.ts";
import { jobsToRoll, pinSecretVersions, secretUsers, versionsInUse } from "./secret-refs.ts";

/** Job writes per commit when a new value rolls onto its jobs (two etcd operations each: a commit fits one etcd transaction). */
const JOBS_PER_COMMIT = 50;
/** A put encrypts before it commits; when the secret or the keyring changed meanwhile, it starts again, this many times at most. */
const PUT_ATTEMPTS = 3;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Secrets as users and workers ask for them. A value goes in sealed (keyring.ts) and comes out only
 * to the worker of a task that names it; the store, the views, the events and the log see names and
 * versions. A new value is a new version, and every running job that uses the secret gets a new
 * version pinned to it (secret-refs.ts), which its update rules roll out.
 */
export class SecretCommands {
  constructor(
    private readonly ctx: ManagerContext,
    private readonly keyring: Keyring,
  ) {}

  list(page: PageRequest = {}): Page<SecretView> {
    const after = page.next === undefined ? undefined : (keyOfToken("secrets", page.next, ["string"])[0] as string);
    const users = secretUsers(this.ctx.state);
    const secrets = this.ctx.store.listSecrets().filter((s) => after === undefined || s.name > after);
    return pageOf("secrets", secrets, page.limit, (s) => [s.name], (s) => view(s, users.get(s.name) ?? []));
  }

  get(name: string): SecretView {
    return view(this.require(name), secretUsers(this.ctx.state).get(name) ?? []);
  }

  /**
   * Stores the value as the secret's next version (the first makes the keyring, when there is none)
   * and rolls it onto the running jobs that use the secret; the current value again changes nothing.
   * Versions no stored job version names are dropped.
   */
  async put(name: string, value: Uint8Array): Promise<SecretPutResult> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.tryPut(name, value);
      if (result) return result;
      if (attempt === PUT_ATTEMPTS) throw new ConflictError(`secret ${name} (or the keyring) kept changing while the new value was being encrypted; try again`);
    }
  }

  /** Refused (409) while a running job uses the secret. */
  remove(name: string): SecretView {
    const secret = this.require(name);
    const users = secretUsers(this.ctx.state).get(name) ?? [];
    if (users.length > 0) {
      throw new ConflictError(`secret ${name} is used by job${users.length > 1 ? "s" : ""} ${users.join(", ")}: stop them (cube stop) or take the secret out of their job files first`);
    }
    const changes = new ChangeSet(this.ctx.now());
    changes.deleteSecret(name);
    this.ctx.commit(changes);
    this.ctx.log.info("secret removed", { secret: name });
    return view(secret, []);
  }

  /** A 400 unless this manager's key-encryption key opens the keyring (a snapshot's, before it is restored). */
  async refuseSealedElsewhere(keyring: StoredKeyring): Promise<void> {
    try {
      await this.keyring.check(keyring);
    } catch (err) {
      if (!(err instanceof KeyringLockedError)) throw err;
      throw new BadRequestError(
        `the snapshot's secrets are sealed under another key-encryption key than this manager's: start the managers with the keyring file (or passphrase) of the cluster it was saved from, then restore it; nothing was changed`,
      );
    }
  }

  rotateKeyring(): Promise<KeyringRotation> {
    return rotateKeyring(this.ctx, this.keyring);
  }

  /**
   * The values of the secrets a task names, at the versions its job version pins, for the worker of
   * the node it is assigned to, and only while it is to run there.
   */
  async taskSecrets(nodeId: string, taskId: string): Promise<TaskSecret[]> {
    const { state, store } = this.ctx;
    const task = state.tasks.get(taskId);
    if (!task) throw new NotFoundError(`task ${taskId} does not exist`);
    if (task.nodeId !== nodeId) throw new ForbiddenError(`task ${taskName(task)} is not assigned to node ${nodeId}: a worker gets the secrets of its own tasks only`);
    if (isGone(task.state) || task.desired !== "running") throw new ConflictError(`task ${taskName(task)} is ${task.state} and not to run: its secrets are given only to start it`);
    const refs = state.job(task.job)?.versions.get(task.jobVersion)?.spec.tasks.find((g) => g.name === task.group)?.secrets ?? [];
    const keyring = store.getKeyring();
    return Promise.all(
      refs.map(async (ref) => {
        const secret = store.getSecret(ref.name);
        if (!secret || !keyring) throw new NotFoundError(`secret ${ref.name} of task ${taskName(task)} no longer exists (an admin makes it again with: cube secret put ${ref.name} -)`);
        const version = ref.version ?? secret.version;
        const kept = secret.versions.find((v) => v.version === version);
        if (!kept) throw new NotFoundError(`secret ${ref.name} version ${version} of task ${taskName(task)} is no longer kept (the secret is at version ${secret.version})`);
        return { name: ref.name, version, value: toBase64(await this.keyring.open(keyring, ref.name, version, kept.sealed)) };
      }),
    );
  }

  /** One attempt at a put; null when what it read changed while it encrypted (the caller tries again). */
  private async tryPut(name: string, value: Uint8Array): Promise<SecretPutResult | null> {
    const { store, state } = this.ctx;
    const before = store.getSecret(name);
    const storedRing = store.getKeyring();
    const keyring = storedRing ?? (await this.keyring.withNewKey(null, this.ctx.now()));
    const current = before?.versions.find((v) => v.version === before.version);
    if (before && current && sameBytes(await this.keyring.open(keyring, name, before.version, current.sealed), value)) {
      return { secret: this.get(name), created: false, changed: false, rolled: [] };
    }
    // A secret made again after it was removed goes on from the versions stored jobs still name: a pin never meets another value.
    const version = Math.max(before?.version ?? 0, ...versionsInUse(state, name)) + 1;
    const sealed = await this.keyring.seal(keyring, name, version, value);

    // From here on, no await: what was read must still hold when the writes are made.
    const ringNow = store.getKeyring();
    if ((store.getSecret(name)?.version ?? 0) !== (before?.version ?? 0)) return null;
    if (storedRing === null ? ringNow !== null : !ringNow?.keys.some((k) => k.id === sealed.keyId)) return null;
    const now = this.ctx.now();
    const kept = versionsInUse(state, name);
    const secret: StoredSecret = {
      name,
      version,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
      versions: [...(before?.versions ?? []).filter((v) => kept.has(v.version)), { version, createdAt: now, sealed }],
    };
    const first = new ChangeSet(now);
    if (storedRing === null) first.putKeyring(keyring);
    first.putSecret(secret);
    const rolled = jobsToRoll(state, name).map((job) => (state.job(job) as JobEntry).job.spec);
    const reason = `secret ${name} changed to version ${version}`;
    this.ctx.commit.together(() => {
      let changes = first;
      rolled.forEach((spec, i) => {
        if (i > 0 && i % JOBS_PER_COMMIT === 0) {
          this.ctx.commit(changes);
          changes = new ChangeSet(now);
        }
        const pinned = pinSecretVersions(spec, (n) => (n === name ? version : store.getSecret(n)?.version)).spec;
        changes.putJob(pinned, (r) => `job ${spec.name} updated to version ${r.job.version}: ${reason}`, false, reason);
      });
      this.ctx.commit(changes);
    });
    this.ctx.log.info("secret stored", { secret: name, version, jobs: rolled.length });
    return { secret: view(secret, secretUsers(state).get(name) ?? []), created: before === null, changed: true, rolled: rolled.map((spec) => spec.name) };
  }

  private require(name: string): StoredSecret {
    const secret = this.ctx.store.getSecret(name);
    if (!secret) throw new NotFoundError(`secret ${name} does not exist`);
    return secret;
  }
}

function view(secret: StoredSecret, usedBy: string[]): SecretView {
  return { name: secret.name, version: secret.version, createdAt: secret.createdAt, updatedAt: secret.updatedAt, versions: secret.versions.map((v) => v.version), usedBy };
}
