import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { parseCompose } from "../model/compose/compose-schema.ts";
import { composeToJob } from "../model/compose/compose-to-job.ts";
import { interpolate } from "../model/compose/interpolate.ts";

export interface ComposeOptions {
  /** The job's name when the file has no top-level `name:` (default: the file's directory name). */
  name?: string;
  /** Refuse a file with keys Cube does not support instead of leaving them out with a warning. */
  strict?: boolean;
}

/** A `.env`-style file's variables, null when there is no such file. */
function envFileAt(path: string): Record<string, string> | null {
  return existsSync(path) ? parseDotenv(readFileSync(path, "utf8")) : null;
}

/**
 * A decoded Compose file as the job it becomes, done here in the CLI because it depends on the
 * caller's machine: `${VAR}` from the environment over the `.env` beside the file, env files and
 * relative bind mounts from the file's directory, and the job's name from that directory when the file
 * has no `name:`. The manager gets the job as JSON, so its API keeps one schema.
 * @example composeJob(doc, "app/compose.yaml", {}).job.name // "app"
 */
export function composeJob(doc: unknown, path: string, options: ComposeOptions): { job: Record<string, unknown>; warnings: string[] } {
  const dir = path === "-" ? process.cwd() : dirname(resolve(path));
  const env = { ...envFileAt(join(dir, ".env")), ...process.env };
  const { value, unset } = interpolate(doc, env);
  const { file, unsupported } = parseCompose(value);
  if (options.strict && unsupported.length > 0) {
    throw new Error(`compose file ${path} uses what Cube does not support: ${unsupported.join(", ")} (without --strict these are left out, with a warning)`);
  }
  const { job, notes } = composeToJob(file, { name: options.name ?? basename(dir), dir, env, envFile: envFileAt, home: homedir() });
  const warnings = [
    ...(unsupported.length > 0 ? [`Cube does not support these compose keys and leaves them out: ${unsupported.join(", ")} (--strict refuses the file instead)`] : []),
    ...notes,
    ...(unset.length > 0 ? [`not set, so empty: ${unset.join(", ")} (set them in the environment or in ${join(dir, ".env")})`] : []),
  ];
  return { job, warnings };
}
