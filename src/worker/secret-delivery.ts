import { ApiClientError } from "../client/api-client.ts";
import type { TaskSecrets } from "../driver/driver.ts";
import { fromBase64 } from "../lib/aes-gcm.ts";
import type { Assignment } from "../model/api-types.ts";
import type { TaskSecret } from "../model/secret.ts";
import type { SecretFiles } from "./secret-files.ts";

/** A task could not get its secrets; `permanent` when asking again will not help (the manager refused, the tmpfs is missing). */
export class SecretDeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Gets a task's secrets into its container: fetched from the manager with this node's credential
 * when the task starts (the manager gives them to the worker of the task's node only), written to the
 * tmpfs, mounted read-only where the task wants them; a restarted container finds them there. The
 * task runner removes them when the task ends, the agent's sweep whatever no task runner owns.
 */
export class SecretDelivery {
  constructor(
    readonly files: SecretFiles,
    private readonly fetch: (taskId: string) => Promise<TaskSecret[]>,
  ) {}

  /** Undefined for a task without secrets. */
  async deliver({ task, spec }: Assignment): Promise<TaskSecrets | undefined> {
    const refs = spec.secrets ?? [];
    if (refs.length === 0) return undefined;
    const values = this.files.read(task.id, refs.map((r) => r.name)) ?? (await this.fetchAndWrite(task.id));
    const env: Record<string, string> = {};
    for (const ref of refs) {
      const value = values.get(ref.name);
      if (!value) throw new SecretDeliveryError(`the manager did not give secret ${ref.name}`, true);
      if (ref.env !== undefined) env[ref.env] = asVariable(ref.name, ref.env, value);
    }
    return { files: refs.map((ref) => ({ source: this.files.path(task.id, ref.name), target: ref.file })), env };
  }

  remove(taskId: string): void {
    this.files.remove(taskId);
  }

  private async fetchAndWrite(taskId: string): Promise<Map<string, Uint8Array>> {
    let fetched: TaskSecret[];
    try {
      fetched = await this.fetch(taskId);
    } catch (err) {
      const status = err instanceof ApiClientError ? err.status : 0;
      throw new SecretDeliveryError(`cannot get the task's secrets from the manager: ${(err as Error).message}`, status >= 400 && status < 500);
    }
    const values = fetched.map((s) => ({ name: s.name, value: fromBase64(s.value) }));
    try {
      this.files.write(taskId, values);
    } catch (err) {
      throw new SecretDeliveryError(`cannot keep the task's secrets: ${(err as Error).message}`, true);
    }
    return new Map(values.map((v) => [v.name, v.value]));
  }
}

/** A value as an environment variable: text without NUL, which is all an environment holds. */
function asVariable(name: string, variable: string, value: Uint8Array): string {
  let text: string | null;
  try {
    text = utf8.decode(value);
  } catch {
    text = null;
  }
  if (text === null || text.includes("\u0000")) throw new SecretDeliveryError(`secret ${name} cannot be given as env ${variable}: its value is not text (take it from its file only)`, true);
  return text;
}
