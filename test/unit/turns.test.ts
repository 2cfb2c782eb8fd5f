import { expect, test } from "bun:test";
import { TurnGate, Turns } from "../../src/manager/turns.ts";

test("units take turns, one per turn of the event loop, with timers and I/O served between them", async () => {
  const turns = new Turns();
  const seen: string[] = [];
  let evaluations = 3;
  let commits = 2;
  // Each unit takes a while, so the ticker is due again by its end.
  const work = () => {
    const until = performance.now() + 3;
    while (performance.now() < until);
  };
  const evaluate = () => {
    work();
    seen.push("evaluate");
    if (--evaluations > 0) turns.request(evaluate);
  };
  const commit = () => {
    work();
    seen.push("commit");
    if (--commits > 0) turns.request(commit);
  };
  // A timer due at once stands for a request that arrived: it must not wait for every unit.
  const ticker = setInterval(() => seen.push("tick"), 0);
  turns.request(evaluate);
  turns.request(evaluate);
  turns.request(commit);
  await Bun.sleep(50);
  clearInterval(ticker);
  const units = seen.filter((s) => s !== "tick");
  // Asked twice before its turn, evaluate ran once for it; each unit asked again went after the other.
  expect(units).toEqual(["evaluate", "commit", "evaluate", "commit", "evaluate"]);
  // Between any two units, something else ran.
  const between = seen.slice(seen.indexOf("evaluate"), seen.lastIndexOf("evaluate") + 1);
  for (let i = 1; i < between.length; i++) expect(between[i - 1] === "tick" || between[i] === "tick").toBe(true);
  turns.stop();
});

test("a cancelled unit does not run, and nothing runs once stopped", async () => {
  const turns = new Turns();
  const seen: string[] = [];
  const a = () => seen.push("a");
  const b = () => seen.push("b");
  turns.request(a);
  turns.request(b);
  turns.cancel(a);
  await Bun.sleep(5);
  expect(seen).toEqual(["b"]);
  turns.stop();
  turns.request(a);
  await Bun.sleep(5);
  expect(seen).toEqual(["b"]);
});

test("a gate lets a few waiters go per turn, and all at once when opened", async () => {
  const turns = new Turns();
  const gate = new TurnGate(turns, 2);
  const passed: number[] = [];
  const waits = Array.from({ length: 5 }, (_, i) => gate.pass().then(() => passed.push(i)));
  // Another unit, asked for after the gate's: it runs in the turn after the gate's first.
  let seenByOther: number[] = [];
  turns.request(() => (seenByOther = [...passed]));
  await Promise.all(waits);
  expect(seenByOther).toEqual([0, 1]);
  expect(passed).toEqual([0, 1, 2, 3, 4]);

  const late = new TurnGate(turns, 1);
  const pending = [late.pass(), late.pass(), late.pass()];
  turns.stop();
  late.open();
  await Promise.all(pending);
  await late.pass();
});
