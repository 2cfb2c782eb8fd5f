/** One node's part of `cube image push`, as the progress display shows it. */
export interface NodePush {
  node: string;
  /** Bytes of the archive sent so far. */
  sent: number;
  state: "sending" | "loaded" | "skipped" | "failed";
  /** With loaded: what the engine loaded; with skipped: the image id it already had; with failed: why. */
  detail: string;
}

const WIDTH = 24;

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

/**
 * One line per node: a bar of the bytes sent against the image's size (the archive is about that
 * size; the bar stops short of full until the node has loaded it), then what became of it.
 * @example progressLines([{ node: "w1", sent: 5_242_880, state: "sending", detail: "" }], 10_485_760)
 */
export function progressLines(pushes: readonly NodePush[], imageBytes: number): string[] {
  const width = Math.max(...pushes.map((p) => p.node.length));
  return pushes.map((p) => {
    const done = p.state === "loaded" || p.state === "skipped";
    const fraction = imageBytes > 0 ? p.sent / imageBytes : 0;
    const filled = done ? WIDTH : Math.min(WIDTH - 1, Math.round(fraction * WIDTH));
    const bar = `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}]`;
    const what = p.state === "sending" ? "sending" : p.state === "skipped" ? `already there (${p.detail})` : p.state === "loaded" ? `loaded ${p.detail}` : `failed: ${p.detail}`;
    return `${p.node.padEnd(width)}  ${bar}  ${mib(p.state === "skipped" ? 0 : p.sent).padStart(10)}  ${what}`;
  });
}
