/**
 * How binpack and E-PVM break ties: every node sits on a ring at a hash of its id, each replica draws
 * a point on the ring from the seed, and among equal totals the node reached first going round from
 * the point wins (then the smaller id, should two ids share a hash). Seeded and replayable like the
 * scan's shuffled order, but a search can find the winner among thousands of equal nodes without
 * looking at them: nodes kept sorted by ring hash give it by one binary search (see CapacityClass).
 */

/** FNV-1a over the id's UTF-16 code units, then murmur3's finalizer so similar ids land far apart. */
export function ringHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A replica's point on the ring, drawn from the call's generator for ties. */
export function ringPoint(random: () => number): number {
  return Math.floor(random() * 4294967296) >>> 0;
}

/** How far round from the point the node is: the smaller, the earlier it wins a tie. */
export function ringRank(hash: number, point: number): number {
  return (hash - point) >>> 0;
}

/** True when node a wins a tie against node b for this point. */
export function winsTie(aHash: number, aId: string, bHash: number, bId: string, point: number): boolean {
  const a = ringRank(aHash, point);
  const b = ringRank(bHash, point);
  return a < b || (a === b && aId < bId);
}
