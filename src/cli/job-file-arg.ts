import { type JobFileFormat, jobFileFormat } from "../model/job-file-format.ts";

/**
 * The job file a command was given (`-` for standard input), read whole, with the format its name or
 * else its text says; the manager decodes and validates it. Every command that takes a job file reads it here.
 * @example const { text, format } = await readJobFileArg("web.yaml"); await client.submitJob(text, format);
 */
export async function readJobFileArg(path: string): Promise<{ text: string; format: JobFileFormat }> {
  const text = path === "-" ? await Bun.stdin.text() : await readNamedFile(path);
  return { text, format: jobFileFormat(text, { name: path }) };
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
