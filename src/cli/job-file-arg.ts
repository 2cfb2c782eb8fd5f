import { isComposeFile } from "../model/compose/compose-schema.ts";
import { type JobFileFormat, jobFileFormat } from "../model/job-file-format.ts";
import { decodeJobFile } from "../model/job-schema.ts";
import { type ComposeOptions, composeJob } from "./compose-file.ts";

export interface JobFileArg {
  text: string;
  format: JobFileFormat;
  /** What a Compose file's conversion left out or changed, one line each (none for a job file). */
  warnings: string[];
}

/**
 * The job file a command was given (`-` for standard input), read whole, with the format its name or
 * else its text says; the manager decodes and validates it. A Compose file (top-level `services:`)
 * becomes a job here (see composeJob) and is sent as JSON. Every command that takes a job file reads it here.
 * @example const { text, format } = await readJobFileArg("web.yaml"); await client.submitJob(text, format);
 */
export async function readJobFileArg(path: string, compose: ComposeOptions = {}): Promise<JobFileArg> {
  const text = path === "-" ? await Bun.stdin.text() : await readNamedFile(path);
  const format = jobFileFormat(text, { name: path });
  // A file that does not decode goes to the manager as it is: its answer names the problem as for any job file.
  let doc: unknown;
  try {
    doc = decodeJobFile(text, format);
  } catch {
    doc = null;
  }
  if (!isComposeFile(doc)) {
    if (compose.name !== undefined || compose.strict) throw new Error(`${path} is a job file, not a compose file: --name and --strict apply to compose files only`);
    return { text, format, warnings: [] };
  }
  const { job, warnings } = composeJob(doc, path, compose);
  return { text: JSON.stringify(job), format: "json", warnings };
}

/** The flags of the commands that take a job file, for what a Compose file needs. */
export const composeArgs = {
  name: { type: "string", description: "a compose file's job name when it has no name: (default: its directory's name)" },
  strict: { type: "boolean", description: "refuse a compose file with keys Cube does not support, instead of leaving them out", default: false },
} as const;

/** Says what a compose file's conversion left out or changed, on standard error. */
export function printWarnings(warnings: readonly string[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
}

async function readNamedFile(path: string): Promise<string> {
  try {
    return await Bun.file(path).text();
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code === "ENOENT") throw new Error(`job file ${path} does not exist`);
    if (code === "EISDIR") throw new Error(`job file ${path} is a directory; name a YAML or JSON file`);
    throw new Error(`job file ${path} cannot be read: ${message}`);
  }
}
