import type Docker from "dockerode";
import { PassThrough, Readable } from "node:stream";

/**
 * Turns the engine's multiplexed log output (8-byte frame headers, Tty off) into one plain byte
 * stream. It ends when the engine ends the output (container exited, or not following) and
 * releases the engine connection when the reader cancels or the signal aborts.
 */
export function demuxedLogStream(docker: Docker, source: NodeJS.ReadableStream | Buffer, wantStdout: boolean, wantStderr: boolean, signal?: AbortSignal): ReadableStream<Uint8Array> {
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : (source as Readable);
  const out = new PassThrough();
  const sink = new PassThrough();
  docker.modem.demuxStream(input, wantStdout ? out : sink, wantStderr ? out : sink);
  sink.resume();
  const release = () => {
    (input as Readable).destroy?.();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        controller.close();
      };
      out.on("data", (chunk: Buffer) => !closed && controller.enqueue(new Uint8Array(chunk)));
      input.on("end", () => setImmediate(close));
      input.on("close", () => setImmediate(close));
      input.on("error", close);
      signal?.addEventListener("abort", () => {
        release();
        close();
      });
    },
    cancel() {
      release();
    },
  });
}
