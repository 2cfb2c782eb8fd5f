import { networkInterfaces } from "node:os";

/** The first non-internal IPv4 address: what other machines most likely reach this one by. */
export function guessAdvertiseHost(bind: string): string {
  if (bind !== "0.0.0.0" && bind !== "::") return bind;
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  return "127.0.0.1";
}
