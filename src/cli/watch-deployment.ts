import type { ApiClient } from "../client/api-client.ts";
import { deploymentProgress } from "./deployment-progress.ts";

/**
 * Follows a submitted version until it settles. On a terminal it redraws the progress lines in
 * place; otherwise it prints a line only when the progress changes (no escape codes).
 */
export async function watchDeployment(client: ApiClient, name: string, version: number, timeoutMs: number, out: NodeJS.WriteStream = process.stdout): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let shown: string[] = [];
  for (;;) {
    const progress = deploymentProgress(await client.getJob(name), version);
    if (out.isTTY) {
      if (shown.length > 0) out.write(`\x1b[${shown.length}A\x1b[0J`);
      out.write(progress.lines.map((l) => `${l}\n`).join(""));
      shown = progress.lines;
    } else if (progress.lines.join("\n") !== shown.join("\n")) {
      out.write(progress.lines.map((l) => `${l}\n`).join(""));
      shown = progress.lines;
    }
    if (progress.done) {
      out.write(`${progress.done.ok ? "✓" : "✗"} ${progress.done.summary}\n`);
      return progress.done.ok;
    }
    if (Date.now() > deadline) {
      out.write(`✗ job ${name} version ${version} did not settle within ${Math.round(timeoutMs / 1000)}s (it goes on; see cube status ${name})\n`);
      return false;
    }
    await Bun.sleep(500);
  }
}
