import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SECRET_NAME } from "../model/secret.ts";

/** Where workers keep secret values unless told otherwise: a tmpfs on most Linux systems. */
export const DEFAULT_SECRETS_DIR = "/dev/shm/cube-secrets";

/** statfs(2)'s magic number of a tmpfs. */
const TMPFS_MAGIC = 0x01021994;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

/**
 * A worker's secret values on a tmpfs (never on a disk): `ROOT/NODE/TASK/NAME`, files of mode 0400
 * in directories of mode 0700, one directory per task so its values go with it. Workers of one
 * machine (`cube dev`) each keep their own node directory. The root must be a tmpfs directory this
 * user owns, or nothing is written.
 */
export class SecretFiles {
  private checked = false;

  constructor(
    private readonly root: string,
    private readonly nodeId: () => string,
  ) {}

  /** Where the task's value of the secret is (or will be). */
  path(taskId: string, name: string): string {
    if (!TASK_ID.test(taskId) || !SECRET_NAME.test(name)) throw new Error(`"${taskId}/${name}" is not a task id and secret name`);
    return join(this.taskDir(taskId), name);
  }

  /** The task's values as written for it before (its container restarts), or null when one is missing. */
  read(taskId: string, names: readonly string[]): Map<string, Uint8Array> | null {
    const paths = names.map((name) => [name, this.path(taskId, name)] as const);
    if (!paths.every(([, path]) => existsSync(path))) return null;
    return new Map(paths.map(([name, path]) => [name, new Uint8Array(readFileSync(path))]));
  }

  /** Writes the task's values, each under a temporary name first, so nobody ever reads half of one. */
  write(taskId: string, values: readonly { name: string; value: Uint8Array }[]): void {
    this.checkRoot();
    mkdirSync(this.taskDir(taskId), { recursive: true, mode: 0o700 });
    for (const { name, value } of values) {
      const path = this.path(taskId, name);
      rmSync(`${path}.new`, { force: true });
      writeFileSync(`${path}.new`, value, { mode: 0o400, flag: "wx" });
      renameSync(`${path}.new`, path);
    }
  }

  remove(taskId: string): void {
    if (TASK_ID.test(taskId)) rmSync(this.taskDir(taskId), { recursive: true, force: true });
  }

  /** Removes the values of every task of this node but `keep`'s; returns the task ids removed. */
  sweep(keep: ReadonlySet<string>): string[] {
    const dir = join(this.root, this.nodeId());
    if (!existsSync(dir)) return [];
    const gone = readdirSync(dir).filter((taskId) => !keep.has(taskId));
    for (const taskId of gone) rmSync(join(dir, taskId), { recursive: true, force: true });
    return gone;
  }

  private taskDir(taskId: string): string {
    return join(this.root, this.nodeId(), taskId);
  }

  /** The root is a directory of this user's, closed to others, on a tmpfs (else a value would reach a disk). */
  private checkRoot(): void {
    if (this.checked) return;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const stat = lstatSync(this.root);
    if (!stat.isDirectory() || stat.uid !== process.getuid?.()) {
      throw new Error(`${this.root} is not a directory of this worker's user: another user could read secrets there; remove it, the worker makes it again`);
    }
    if ((stat.mode & 0o077) !== 0) chmodSync(this.root, 0o700);
    if (statfsSync(this.root).type !== TMPFS_MAGIC) {
      throw new Error(`${this.root} is not on a tmpfs: the worker keeps secrets in memory only, never on a disk (mount a tmpfs there, or give the worker a directory on one)`);
    }
    this.checked = true;
  }
}
