import type Docker from "dockerode";
import type { Duplex } from "node:stream";
import { PassThrough } from "node:stream";

const MAX_OUTPUT_BYTES = 64 * 1024;

/**
 * Reads an exec's multiplexed output until the command ends; null when it takes longer than
 * timeoutMs. Output past 64 KiB is dropped so a chatty command cannot fill the worker's memory.
 */
export function collectExecOutput(docker: Docker, stream: Duplex, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    let size = 0;
    out.on("data", (chunk: Buffer) => {
      if (size >= MAX_OUTPUT_BYTES) return;
      chunks.push(chunk);
      size += chunk.length;
    });
    docker.modem.demuxStream(stream, out, out);
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8").slice(0, MAX_OUTPUT_BYTES));
    };
    stream.on("end", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}
