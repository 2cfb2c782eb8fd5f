import type Docker from "dockerode";

/** How dockerode reaches an engine, and how messages name it. */
export interface EngineAddress {
  options: Docker.DockerOptions;
  /** The socket path or host:port, for errors that say where the engine was looked for. */
  where: string;
}

/**
 * A Docker host as `--docker-host` or DOCKER_HOST give it: `unix:///path/docker.sock` (or a bare
 * path), or `tcp://host:port` (plain HTTP). Default: /var/run/docker.sock. TLS and ssh:// engines
 * are not supported: the binary leaves dockerode's SSH transport out.
 * @example engineAddress("unix:///run/engine-2/docker.sock").where // "/run/engine-2/docker.sock"
 */
export function engineAddress(host: string | undefined): EngineAddress {
  const value = host?.trim() || "unix:///var/run/docker.sock";
  if (value.startsWith("/") || value.startsWith("unix://")) {
    const socketPath = value.startsWith("unix://") ? value.slice("unix://".length) : value;
    return { options: { socketPath }, where: socketPath };
  }
  const tcp = /^tcp:\/\/([^:/]+):(\d{1,5})\/?$/.exec(value);
  if (tcp) return { options: { host: tcp[1], port: Number(tcp[2]), protocol: "http" }, where: `${tcp[1]}:${tcp[2]}` };
  throw new Error(`the Docker host must be unix:///path/to/docker.sock or tcp://HOST:PORT, not "${value}"`);
}
