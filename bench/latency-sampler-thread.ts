/** The thread of a ThreadedSampler (latency-sampler.ts): a LatencySampler, told when to start and stop. */
import { LatencySampler } from "./latency-sampler.ts";

declare const self: Worker;

let sampler: LatencySampler | undefined;
self.addEventListener("message", async (event: MessageEvent<{ url: string; token: string; everyMs: number } | "start" | "stop">) => {
  const message = event.data;
  if (message === "start") sampler?.start();
  else if (message === "stop" && sampler) {
    await sampler.stop();
    const { timesMs, sentAt, errors, largestBodyBytes } = sampler;
    self.postMessage({ timesMs, sentAt, errors, largestBodyBytes });
  } else if (typeof message === "object") sampler = new LatencySampler(message.url, message.token, message.everyMs);
});
