import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJobFileArg } from "../../src/cli/job-file-arg.ts";

const dir = mkdtempSync(join(tmpdir(), "cube-job-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = "# the web job\nname: web\ntasks: [{ name: http, image: img }]\n";
const json = '{"name": "web", "tasks": [{"name": "http", "image": "img"}]}';

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("readJobFileArg", () => {
  test("reads a file whole, in the format its name says, else its text", async () => {
    expect(await readJobFileArg(file("web.yml", json))).toEqual({ text: json, format: "yaml", warnings: [] });
    expect(await readJobFileArg(file("web.json", yaml))).toEqual({ text: yaml, format: "json", warnings: [] });
    expect(await readJobFileArg(file("web-json", ` ${json}`))).toEqual({ text: ` ${json}`, format: "json", warnings: [] });
    expect(await readJobFileArg(file("web-yaml", yaml))).toEqual({ text: yaml, format: "yaml", warnings: [] });
  });

  test("reads - from standard input, in the format its text says", async () => {
    const script = `const { readJobFileArg } = await import(${JSON.stringify(join(import.meta.dir, "../../src/cli/job-file-arg.ts"))}); process.stdout.write(JSON.stringify(await readJobFileArg("-")));`;
    for (const [text, format] of [[yaml, "yaml"], [json, "json"]] as const) {
      const child = Bun.spawn([process.execPath, "-e", script], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      expect(JSON.parse(out)).toEqual({ text, format, warnings: [] });
    }
  });

  test("a path that is missing or a directory is refused with the path in the message", async () => {
    const missing = join(dir, "nope.yaml");
    await expect(readJobFileArg(missing)).rejects.toThrow(`job file ${missing} does not exist`);
    const folder = join(dir, "jobs");
    mkdirSync(folder);
    await expect(readJobFileArg(folder)).rejects.toThrow(`job file ${folder} is a directory; name a YAML or JSON file`);
  });
});
