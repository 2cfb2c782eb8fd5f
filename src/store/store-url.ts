/**
 * What `--store` names: the embedded SQLite (no flag, or `sqlite`) or an etcd cluster
 * (`etcd://h1:2379,h2:2379,h3:2379`, each member's client address; `etcds://` for TLS).
 * @example parseStoreUrl("etcd://10.0.0.1:2379,10.0.0.2") // { kind: "etcd", endpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"] }
 */
export function parseStoreUrl(value: string | undefined): { kind: "sqlite" } | { kind: "etcd"; endpoints: string[] } {
  if (value === undefined || value === "" || value === "sqlite") return { kind: "sqlite" };
  const match = /^(etcds?):\/\/(.+)$/.exec(value);
  if (!match) throw new Error(`--store must be etcd://HOST:PORT[,HOST:PORT…] (or sqlite, the default), not "${value}"`);
  const scheme = match[1] === "etcds" ? "https" : "http";
  const endpoints = (match[2] as string).split(",").map((member) => {
    const hostPort = member.trim().replace(/\/+$/, "");
    if (!/^[A-Za-z0-9.\-[\]:]+$/.test(hostPort) || hostPort === "") throw new Error(`--store: "${member}" is not a HOST[:PORT] of an etcd member`);
    return `${scheme}://${/:\d+$/.test(hostPort) ? hostPort : `${hostPort}:2379`}`;
  });
  return { kind: "etcd", endpoints };
}
