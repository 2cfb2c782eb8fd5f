import type Docker from "dockerode";
import { PassThrough, Readable, Writable } from "node:stream";

export interface LogStreamOptions {
  stdout: boolean;
  stderr: boolean;
  signal?: AbortSignal;
}

/**
 * Turns the engine's multiplexed log output (8-byte frame headers, as containers run with Tty off)
 * into one plain byte stream. dockerode hands over a Buffer when not following and the live HTTP
 * response when following. The stream closes when the engine ends the output (not following, or the
 * container exited); cancelling it or aborting the signal destroys the response, which closes the
 * engine connection.
 */
export function demuxedLogStream(docker: Docker, source: NodeJS.ReadableStream | Buffer, options: LogStreamOptions): ReadableStream<Uint8Array> {
  const input: Readable = Buffer.isBuffer(source) ? Readable.from([source]) : (source as Readable);
  const output = new PassThrough();
  // The engine only sends the streams asked for; the discard covers a stray frame of the other.
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  docker.modem.demuxStream(input, options.stdout ? output : discard, options.stderr ? output : discard);
  // demuxStream writes every frame as it arrives, so once the input is over the output has it all.
  const endOutput = () => {
    if (!output.writableEnded) output.end();
  };
  input.once("end", endOutput);
  input.once("close", endOutput);
  input.once("error", endOutput);

  const { signal } = options;
  const onAbort = () => input.destroy();
  // A cancelled stream's controller throws on close or enqueue.
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        signal?.removeEventListener("abort", onAbort);
        if (!open) return;
        open = false;
        controller.close();
      };
      output.on("data", (chunk: Buffer) => open && controller.enqueue(new Uint8Array(chunk)));
      output.once("end", close);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    },
    cancel() {
      open = false;
      signal?.removeEventListener("abort", onAbort);
      input.destroy();
    },
  });
}
