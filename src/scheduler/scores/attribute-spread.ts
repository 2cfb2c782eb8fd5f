import type { ScorePlugin } from "../plugin.ts";
import type { SpreadTally } from "../spread-tally.ts";

/**
 * Nomad's spread: a node scores 100 when its attribute value (its datacenter, its rack…) holds the
 * fewest replicas of the group, 0 when it holds the most or lacks the attribute, linearly between.
 * The job file's weight (0–100, default 50) is divided by 10, so against binpack's 1 and job
 * anti-affinity's 2 a default spread decides first and the algorithm then picks within the value.
 */
export function attributeSpread(tally: SpreadTally): ScorePlugin {
  const scoreOf = (value: string | undefined) => {
    const n = value === undefined ? undefined : tally.counts.get(value);
    if (n === undefined) return 0;
    return tally.most === tally.fewest ? 100 : (100 * (tally.most - n)) / (tally.most - tally.fewest);
  };
  return {
    name: `spread(${tally.attribute})`,
    weight: tally.weight / 10,
    score: ({ node }) => scoreOf(tally.read(node)),
    byAttribute: { read: tally.read, scoreOf },
  };
}
