import type { Database } from "bun:sqlite";
import type { Node } from "../model/node.ts";

/** A type alias, not an interface, so it binds as a named-parameter record. */
type NodeRow = {
  id: string;
  name: string;
  address: string;
  datacenter: string;
  labels: string;
  capacity: string;
  stats: string | null;
  status: string;
  eligible: number;
  last_heartbeat: number;
  registered_at: number;
  version: string;
};

function toNode(r: NodeRow): Node {
  return {
    id: r.id,
    name: r.name,
    address: r.address,
    datacenter: r.datacenter,
    labels: JSON.parse(r.labels),
    capacity: JSON.parse(r.capacity),
    stats: r.stats === null ? null : JSON.parse(r.stats),
    status: r.status as Node["status"],
    eligible: r.eligible === 1,
    lastHeartbeat: r.last_heartbeat,
    registeredAt: r.registered_at,
    version: r.version,
  };
}

function toRow(n: Node): NodeRow {
  return {
    id: n.id,
    name: n.name,
    address: n.address,
    datacenter: n.datacenter,
    labels: JSON.stringify(n.labels),
    capacity: JSON.stringify(n.capacity),
    stats: n.stats === null ? null : JSON.stringify(n.stats),
    status: n.status,
    eligible: n.eligible ? 1 : 0,
    last_heartbeat: n.lastHeartbeat,
    registered_at: n.registeredAt,
    version: n.version,
  };
}

/** Worker nodes as the manager knows them. */
export class NodesRepo {
  private readonly upsertStmt;
  private readonly byId;
  private readonly byName;
  private readonly all;

  constructor(db: Database) {
    this.upsertStmt = db.prepare<null, [NodeRow]>(`
      INSERT INTO nodes (id, name, address, datacenter, labels, capacity, stats, status, eligible, last_heartbeat, registered_at, version)
      VALUES ($id, $name, $address, $datacenter, $labels, $capacity, $stats, $status, $eligible, $last_heartbeat, $registered_at, $version)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, datacenter = excluded.datacenter,
        labels = excluded.labels, capacity = excluded.capacity, stats = excluded.stats, status = excluded.status,
        eligible = excluded.eligible, last_heartbeat = excluded.last_heartbeat, registered_at = excluded.registered_at,
        version = excluded.version`);
    this.byId = db.prepare<NodeRow, [string]>("SELECT * FROM nodes WHERE id = ?");
    this.byName = db.prepare<NodeRow, [string]>("SELECT * FROM nodes WHERE name = ?");
    this.all = db.prepare<NodeRow, []>("SELECT * FROM nodes ORDER BY name");
  }

  upsert(node: Node): void {
    this.upsertStmt.run(toRow(node));
  }

  find(id: string): Node | null {
    const row = this.byId.get(id);
    return row ? toNode(row) : null;
  }

  findByName(name: string): Node | null {
    const row = this.byName.get(name);
    return row ? toNode(row) : null;
  }

  list(): Node[] {
    return this.all.all().map(toNode);
  }
}
