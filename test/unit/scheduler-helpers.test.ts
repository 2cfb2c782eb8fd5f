import { describe, expect, test } from "bun:test";
import { versionRange } from "../../src/scheduler/filters/version-range.ts";
import { summarizeReasons } from "../../src/scheduler/index.ts";
import { seededRandom } from "../../src/scheduler/seeded-random.ts";

describe("summarizeReasons", () => {
  test("most common reason first, counted in nodes", () => {
    expect(summarizeReasons({ "datacenter not in [dc2]": 2, "memory exhausted: needs 512 MiB, 300 free": 3 })).toBe(
      "3 nodes: memory exhausted: needs 512 MiB, 300 free; 2 nodes: datacenter not in [dc2]",
    );
  });

  test("one node is singular; equal counts sort by reason", () => {
    expect(summarizeReasons({ "node is down": 1, "node is draining": 1 })).toBe("1 node: node is down; 1 node: node is draining");
  });

  test("no reasons, empty text", () => {
    expect(summarizeReasons({})).toBe("");
  });
});

describe("versionRange", () => {
  const range = versionRange(">= 1.2, < 2.0");

  test("every comparison must hold, numerically per part", () => {
    expect(["1.2", "1.2.0", "1.10.3", "v1.5", "1.9.9-rc1"].map(range)).toEqual([true, true, true, true, true]);
    expect(["1.1.9", "2.0", "2.0.1", "10.0"].map(range)).toEqual([false, false, false, false]);
  });

  test("a bare version means equal; != and <= work", () => {
    expect(versionRange("1.2")("1.2.0")).toBe(true);
    expect(versionRange("= 1.2")("1.3")).toBe(false);
    expect(versionRange("!= 1.2")("1.3")).toBe(true);
    expect(versionRange("<= 1.2")("1.2.1")).toBe(false);
    expect(versionRange("> 1.2")("1.2.1")).toBe(true);
  });

  test("an unparsable version or range never matches", () => {
    expect(range("latest")).toBe(false);
    expect(versionRange(">= one")("1.0")).toBe(false);
    expect(versionRange("~> 1.2")("1.2")).toBe(false);
  });
});

describe("seededRandom", () => {
  const draw = (seed: string) => {
    const random = seededRandom(seed);
    return Array.from({ length: 5 }, () => random());
  };

  test("same seed, same sequence; another seed, another sequence", () => {
    expect(draw("eval-1")).toEqual(draw("eval-1"));
    expect(draw("eval-2")).not.toEqual(draw("eval-1"));
  });

  test("values lie in [0, 1)", () => {
    const random = seededRandom("range");
    for (let i = 0; i < 1000; i++) {
      const value = random();
      expect(value >= 0 && value < 1).toBe(true);
    }
  });
});
