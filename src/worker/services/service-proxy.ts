import { connect, createServer, type Server, type Socket } from "node:net";
import type { Logger } from "../../lib/logger.ts";
import type { ServiceEndpoint } from "../../model/api-types.ts";
import { endpointOrder } from "./endpoint-order.ts";

/** A replica that does not accept the connection within this long is skipped for the next one. */
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * A TCP listener on a service's address and one of its container ports: each connection goes to a
 * healthy endpoint with that container port (round robin), or to the next one when it is refused.
 * Endpoints are read at each connection, so new connections follow the catalog as replicas move.
 */
export class ServiceProxy {
  private turn = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly address: string,
    readonly port: number,
  ) {}

  static listen(address: string, port: number, endpoints: () => readonly ServiceEndpoint[], log: Logger): Promise<ServiceProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer({ pauseOnConnect: true });
      const proxy = new ServiceProxy(server, address, port);
      server.on("connection", (client) => void proxy.forward(client, endpoints().filter((e) => e.containerPort === port), log));
      server.once("error", reject);
      server.listen(port, address, () => {
        server.off("error", reject);
        server.on("error", (err) => log.warn("service proxy error", { address, port, error: err.message }));
        resolve(proxy);
      });
    });
  }

  /** Stops accepting and cuts the connections still open. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async forward(client: Socket, endpoints: ServiceEndpoint[], log: Logger): Promise<void> {
    this.track(client);
    client.on("error", () => client.destroy());
    for (const endpoint of endpointOrder(endpoints, this.turn++)) {
      if (client.destroyed) return;
      const upstream = await connectTo(endpoint);
      if (!upstream) continue;
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      this.track(upstream);
      upstream.on("error", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
    log.debug("no endpoint took the connection", { address: this.address, port: this.port, endpoints: endpoints.length });
    client.destroy();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }
}

/** A connected socket, or null when the endpoint refused or did not answer in time. */
function connectTo(endpoint: ServiceEndpoint): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.address, port: endpoint.port });
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(null);
    };
    const timer = setTimeout(fail, CONNECT_TIMEOUT_MS);
    socket.once("error", fail);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", fail);
      resolve(socket);
    });
  });
}
