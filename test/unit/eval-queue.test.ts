import { describe, expect, test } from "bun:test";
import { EvalQueue } from "../../src/manager/eval-queue.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("EvalQueue", () => {
  test("a job marked several times before its turn is evaluated once, in the order first marked", () => {
    const seen: string[] = [];
    const queue = new EvalQueue((job) => seen.push(job), (job, err) => { throw err; });
    for (const job of ["b", "a", "b", "c", "a"]) queue.mark(job);
    expect(queue.size).toBe(3);
    queue.drain();
    expect(seen).toEqual(["b", "a", "c"]);
    expect(queue.size).toBe(0);
    queue.stop();
  });

  test("marks made during a pass are taken by the same pass; a job marked by its own evaluation goes again", () => {
    const seen: string[] = [];
    const queue: EvalQueue = new EvalQueue((job) => {
      seen.push(job);
      if (job === "a" && seen.filter((j) => j === "a").length < 3) queue.mark("a");
      if (job === "b") queue.mark("c");
    }, (job, err) => { throw err; });
    queue.mark("a");
    queue.mark("b");
    queue.drain();
    expect(seen).toEqual(["a", "b", "a", "c", "a"]);
    queue.stop();
  });

  test("marks from one turn of the event loop coalesce into one pass, run soon without being asked", async () => {
    const passes: string[][] = [];
    let current: string[] | null = null;
    const queue = new EvalQueue((job) => {
      if (!current) passes.push((current = []));
      current.push(job);
    }, (job, err) => { throw err; });
    queue.mark("a");
    queue.mark("b");
    queue.mark("a");
    expect(passes).toEqual([]);
    await nextTurn();
    current = null;
    queue.mark("c");
    await nextTurn();
    expect(passes).toEqual([["a", "b"], ["c"]]);
    queue.stop();
  });

  test("a failing evaluation is reported and the others still run; a stopped queue runs nothing by itself", async () => {
    const seen: string[] = [];
    const failed: string[] = [];
    const queue = new EvalQueue((job) => {
      if (job === "bad") throw new Error("boom");
      seen.push(job);
    }, (job, err) => failed.push(`${job}: ${err.message}`));
    queue.mark("bad");
    queue.mark("good");
    queue.drain();
    expect(seen).toEqual(["good"]);
    expect(failed).toEqual(["bad: boom"]);
    queue.stop();
    queue.mark("later");
    await nextTurn();
    expect(seen).toEqual(["good"]);
  });

  test("a job that carries on goes before the marked ones, for 20 steps in a row, then takes its turn after them", () => {
    const seen: string[] = [];
    let bigSteps = 0;
    const queue: EvalQueue = new EvalQueue((job) => {
      seen.push(job);
      if (job === "big" && ++bigSteps < 30) queue.carryOn("big");
    }, (job, err) => { throw err; });
    queue.mark("big");
    queue.mark("small");
    queue.mark("other");
    expect(queue.size).toBe(3);
    queue.drain();
    // 1 step from its mark and 20 carried on in a row, then the others, then the rest of it.
    expect(seen.slice(0, 21)).toEqual(Array(21).fill("big"));
    expect(seen.slice(21, 23)).toEqual(["small", "other"]);
    expect(seen.slice(23)).toEqual(Array(9).fill("big"));
    expect(queue.size).toBe(0);
    queue.carryOn("gone");
    expect(queue.size).toBe(1);
    queue.forget("gone");
    expect(queue.size).toBe(0);
    queue.stop();
  });
});
