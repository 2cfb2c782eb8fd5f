import { CapacityClass, classHash, type Member, type OrderKey, precedes } from "./capacity-class.ts";
import type { NodeUsage } from "./plugin.ts";
import { ringHash } from "./tie-ring.ts";

interface Place {
  member: Member;
  class: CapacityClass;
}

/**
 * Nodes in capacity classes (nodes alike in resources, see CapacityClass), the classes in a treap
 * ordered by a key (fill or task count) whose every subtree knows its ClassRange, so a search finds
 * the fullest (or emptiest) class where a task fits in O(log classes), skipping whole subtrees where
 * nothing fits or nothing can beat the best found. Adding, moving or removing a node costs
 * O(log classes) plus a splice into its class's members. The treap's priorities are the classes'
 * hashes, so its shape depends only on which classes there are, never on the order changes came in.
 * @example const order = new CapacityOrder("fill"); order.set(usage); order.root?.maxFreeCpu
 */
export class CapacityOrder {
  root: CapacityClass | null = null;
  private readonly byHash = new Map<number, CapacityClass>();
  private readonly places = new Map<string, Place>();

  /** @param holdsOf the node's replicas of the group a call places (its own order); the cluster's orders count none. */
  constructor(
    readonly key: OrderKey,
    private readonly holdsOf: (usage: NodeUsage) => number = () => 0,
  ) {}

  get size(): number {
    return this.places.size;
  }

  has(nodeId: string): boolean {
    return this.places.has(nodeId);
  }

  /** Adds the node, or moves it to the class its usage now puts it in (the usage may be a new object for the same node). */
  set(usage: NodeUsage): void {
    const holds = this.holdsOf(usage);
    const place = this.places.get(usage.node.id);
    if (!place) {
      const member: Member = { usage, ring: ringHash(usage.node.id) };
      this.places.set(usage.node.id, { member, class: this.join(member, holds) });
      return;
    }
    place.member.usage = usage;
    if (place.class.matches(usage, holds)) return;
    this.leave(place);
    place.class = this.join(place.member, holds);
  }

  delete(nodeId: string): void {
    const place = this.places.get(nodeId);
    if (!place) return;
    this.leave(place);
    this.places.delete(nodeId);
  }

  /** Every class, emptiest first. */
  *classes(from: CapacityClass | null = this.root): Generator<CapacityClass> {
    if (!from) return;
    yield* this.classes(from.left);
    yield from;
    yield* this.classes(from.right);
  }

  private join(member: Member, holds: number): CapacityClass {
    const hash = classHash(member.usage, holds);
    let found = this.byHash.get(hash) ?? null;
    while (found && !found.matches(member.usage, holds)) found = found.next;
    if (!found) {
      found = new CapacityClass(member.usage, holds, hash, this.key);
      found.next = this.byHash.get(hash) ?? null;
      this.byHash.set(hash, found);
      this.root = insert(this.root, found);
    }
    found.admit(member);
    return found;
  }

  private leave({ member, class: left }: Place): void {
    left.dismiss(member);
    if (left.members.length > 0) return;
    this.root = remove(this.root as CapacityClass, left);
    const first = this.byHash.get(left.hash) as CapacityClass;
    if (first === left) {
      if (left.next) this.byHash.set(left.hash, left.next);
      else this.byHash.delete(left.hash);
      return;
    }
    let before = first;
    while (before.next !== left) before = before.next as CapacityClass;
    before.next = left.next;
  }
}

function insert(root: CapacityClass | null, added: CapacityClass): CapacityClass {
  if (root === null) return added;
  if (added.hash > root.hash) {
    [added.left, added.right] = split(root, added);
    added.pull();
    return added;
  }
  if (precedes(added, root)) root.left = insert(root.left, added);
  else root.right = insert(root.right, added);
  root.pull();
  return root;
}

/** The classes before `key` and those after it (key itself is not in the tree). */
function split(root: CapacityClass | null, key: CapacityClass): [CapacityClass | null, CapacityClass | null] {
  if (root === null) return [null, null];
  if (precedes(root, key)) {
    const [before, after] = split(root.right, key);
    root.right = before;
    root.pull();
    return [root, after];
  }
  const [before, after] = split(root.left, key);
  root.left = after;
  root.pull();
  return [before, root];
}

function remove(root: CapacityClass, removed: CapacityClass): CapacityClass | null {
  if (root === removed) return merge(root.left, root.right);
  if (precedes(removed, root)) root.left = remove(root.left as CapacityClass, removed);
  else root.right = remove(root.right as CapacityClass, removed);
  root.pull();
  return root;
}

/** Joins two treaps, every class of `a` preceding every class of `b`. */
function merge(a: CapacityClass | null, b: CapacityClass | null): CapacityClass | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.hash > b.hash) {
    a.right = merge(a.right, b);
    a.pull();
    return a;
  }
  b.left = merge(a, b.left);
  b.pull();
  return b;
}
