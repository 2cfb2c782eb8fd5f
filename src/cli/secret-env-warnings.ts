import type { JobSpec } from "../model/job.ts";

/**
 * A secret given as `env` is in its container's environment, which `docker inspect` shows anyone who
 * may ask the node's engine; its file is not.
 * @example secretEnvWarnings(spec) // ["warning: task http gets secret db as env DB_PASSWORD: `docker inspect` on its node shows the value (the file /run/secrets/db does not)"]
 */
export function secretEnvWarnings(spec: JobSpec): string[] {
  return spec.tasks.flatMap((task) =>
    (task.secrets ?? [])
      .filter((ref) => ref.env !== undefined)
      .map((ref) => `warning: task ${task.name} gets secret ${ref.name} as env ${ref.env}: \`docker inspect\` on its node shows the value (the file ${ref.file} does not)`),
  );
}
