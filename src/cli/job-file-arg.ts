/** A job file named on the command line (`-` for standard input), and the format its name or text says. */
export async function readJobFileArg(path: string): Promise<{ text: string; format: "yaml" | "json" }> {
  let text: string;
  if (path === "-") text = await Bun.stdin.text();
  else {
    const file = Bun.file(path);
    if (!(await file.exists())) throw new Error(`job file ${path} does not exist`);
    text = await file.text();
  }
  return { text, format: path.endsWith(".json") || /^\s*\{/.test(text) ? "json" : "yaml" };
}
