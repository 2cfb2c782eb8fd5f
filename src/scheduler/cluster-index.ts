import { type AttributeReader, attributeReader } from "./filters/node-attribute.ts";
import { addTask, emptyUsage, groupKey } from "./node-usage.ts";
import type { NodeUsage } from "./plugin.ts";
import type { ClusterSnapshot, LiveTask } from "./types.ts";

const byNodeId = (a: NodeUsage, b: NodeUsage) => (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0);

/**
 * The cluster as the scheduler reads it: every node with what its live tasks hold, sorted by node id
 * so that the seeded order, not the caller's, decides ties. Built once in O(nodes log nodes + tasks)
 * and read by any number of `placeTasks` calls, which never change it; a caller that writes a
 * placement down adds it with `add`, so one reconciler pass places many groups on one index.
 * @example const cluster = ClusterIndex.of({ nodes, tasks }); placeTasks(request, cluster); cluster.add(placedTask)
 */
export class ClusterIndex {
  /** One per node, by node id. */
  readonly usages: readonly NodeUsage[];
  private readonly positions = new Map<string, number>();
  /** Group key → node position → live tasks of the group there. */
  private readonly groupNodes = new Map<string, Map<number, number>>();
  /** Attribute → each node's value, by position (nodes do not change within an index). */
  private readonly attributeValues = new Map<string, (string | undefined)[]>();

  private constructor(usages: NodeUsage[]) {
    this.usages = usages;
    usages.forEach((u, i) => this.positions.set(u.node.id, i));
  }

  static of(snapshot: ClusterSnapshot): ClusterIndex {
    const index = new ClusterIndex(snapshot.nodes.map(emptyUsage).sort(byNodeId));
    for (const task of snapshot.tasks) index.add(task);
    return index;
  }

  get size(): number {
    return this.usages.length;
  }

  /** Position of a node in `usages`, or undefined when the index does not know it. */
  positionOf(nodeId: string): number | undefined {
    return this.positions.get(nodeId);
  }

  /** Where a group's live tasks are: node position → how many. */
  nodesOf(key: string): ReadonlyMap<number, number> {
    return this.groupNodes.get(key) ?? EMPTY;
  }

  /** Every node's value of an attribute, by position, read once per index. */
  valuesOf(attribute: string, read: AttributeReader = attributeReader(attribute)): readonly (string | undefined)[] {
    let values = this.attributeValues.get(attribute);
    if (!values) this.attributeValues.set(attribute, (values = this.usages.map((u) => read(u.node))));
    return values;
  }

  /** Counts a live task against its node; one on no node, or on a node not in the index, holds nothing. */
  add(task: LiveTask): void {
    const position = task.nodeId === null ? undefined : this.positions.get(task.nodeId);
    if (position === undefined) return;
    const key = groupKey(task.job, task.group);
    addTask(this.usages[position] as NodeUsage, key, task.resources, hostPortsOf(task.reservedPorts));
    let nodes = this.groupNodes.get(key);
    if (!nodes) this.groupNodes.set(key, (nodes = new Map()));
    nodes.set(position, (nodes.get(position) ?? 0) + 1);
  }
}

const EMPTY: ReadonlyMap<number, number> = new Map();
const NO_PORTS: readonly number[] = [];

function hostPortsOf(reserved: Record<string, number>): readonly number[] {
  let ports: number[] | null = null;
  for (const name in reserved) (ports ??= []).push(reserved[name] as number);
  return ports ?? NO_PORTS;
}
