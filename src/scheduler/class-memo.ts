import type { CapacityClass } from "./capacity-class.ts";
import { qualifies } from "./placement-context.ts";
import type { NodeUsage, PlacementContext, ScorePlugin } from "./plugin.ts";

interface Members<T> {
  /** The class's `changes` when this was learned. */
  changes: number;
  known: T;
}

/**
 * What one call learns about capacity classes, kept while it holds: the searches of every replica
 * meet the same classes again. A class's numbers never change (a node that changes moves to another
 * class), so what is scored from them holds for the call; what its members tell holds until they
 * change (see CapacityClass.changes).
 */
export class ClassMemo {
  private readonly qualifying = new Map<CapacityClass, Members<boolean>>();
  private readonly values = new Map<ScorePlugin, Map<CapacityClass, Members<Set<string | undefined>>>>();
  private readonly raws = new Map<ScorePlugin, Map<CapacityClass, number>>();

  constructor(private readonly ctx: PlacementContext) {}

  /** Whether any member could take the group were it empty (see `qualifies`): a job's constraints rule out the same classes for every replica. */
  anyQualifies(found: CapacityClass): boolean {
    const seen = this.qualifying.get(found);
    if (seen && seen.changes === found.changes) return seen.known;
    const known = found.members.some((m) => qualifies(m.usage, this.ctx));
    this.qualifying.set(found, { changes: found.changes, known });
    return known;
  }

  /** A `byClass` plugin's raw score of the class, scored on `probe` (the class as a usage) the first time. */
  rawOf(found: CapacityClass, plugin: ScorePlugin, probe: NodeUsage): number {
    let raws = this.raws.get(plugin);
    if (!raws) this.raws.set(plugin, (raws = new Map()));
    let raw = raws.get(found);
    if (raw === undefined) raws.set(found, (raw = plugin.score(probe, this.ctx)));
    return raw;
  }

  /** The most a `byAttribute` plugin gives any member of the class: its best score over the values the members have. */
  ceilingOf(found: CapacityClass, plugin: ScorePlugin): number {
    const { read, scoreOf } = plugin.byAttribute as NonNullable<ScorePlugin["byAttribute"]>;
    let byClass = this.values.get(plugin);
    if (!byClass) this.values.set(plugin, (byClass = new Map()));
    let seen = byClass.get(found);
    if (!seen || seen.changes !== found.changes) byClass.set(found, (seen = { changes: found.changes, known: new Set(found.members.map((m) => read(m.usage.node))) }));
    let most = Number.NEGATIVE_INFINITY;
    for (const value of seen.known) most = Math.max(most, scoreOf(value));
    return most;
  }
}
