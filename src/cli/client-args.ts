import { ApiClient } from "../client/api-client.ts";
import { tlsCaArg } from "./tls-args.ts";

/** Flags every client command takes. */
export const clientArgs = {
  addr: { type: "string", description: "manager address (env CUBE_ADDR)", valueHint: "http://127.0.0.1:7600" },
  token: { type: "string", description: "API token (env CUBE_TOKEN)" },
  "tls-ca": { type: "string", description: "CA certificate to verify an https manager with (env CUBE_TLS_CA)" },
  json: { type: "boolean", description: "print JSON instead of a table", default: false },
} as const;

export function clientFrom(args: { addr?: string; token?: string; "tls-ca"?: string }): ApiClient {
  return new ApiClient(args.addr ?? process.env.CUBE_ADDR ?? "http://127.0.0.1:7600", { token: args.token ?? process.env.CUBE_TOKEN, ca: tlsCaArg(args["tls-ca"]) });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
