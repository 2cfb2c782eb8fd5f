import { expect, test } from "bun:test";
import { StopPacer, type StopTarget } from "../../src/driver/docker/stop-pacer.ts";

/** Counts the containers that are exiting (sent a signal they obey, not yet gone) at any moment. */
class Engine {
  exiting = 0;
  mostExiting = 0;
}

/** A container that exits `exitMs` after a signal it obeys: SIGKILL always, the stop signal if it handles it. */
class FakeContainer implements StopTarget {
  readonly signals: { name: string; at: number }[] = [];
  private running = true;
  private dying = false;
  private gone!: () => void;
  readonly exited = new Promise<void>((resolve) => {
    this.gone = resolve;
  });

  constructor(
    private readonly engine: Engine,
    private readonly handlesStopSignal: boolean,
    private readonly exitMs: number,
    running = true,
  ) {
    this.running = running;
    if (!running) this.gone();
  }

  async signal(name: string): Promise<boolean> {
    this.signals.push({ name, at: performance.now() });
    if (!this.running) return false;
    if (!this.dying && (name === "SIGKILL" || this.handlesStopSignal)) {
      this.dying = true;
      this.engine.exiting++;
      this.engine.mostExiting = Math.max(this.engine.mostExiting, this.engine.exiting);
      setTimeout(() => {
        this.running = false;
        this.engine.exiting--;
        this.gone();
      }, this.exitMs);
    }
    return true;
  }

  get names(): string[] {
    return this.signals.map((s) => s.name);
  }
}

test("a job of containers that obey the stop signal exits a few at a time, each without a SIGKILL", async () => {
  const engine = new Engine();
  const pacer = new StopPacer(4, 1_000);
  const containers = Array.from({ length: 24 }, () => new FakeContainer(engine, true, 10));
  await Promise.all(containers.map((c) => pacer.stop(c, "SIGTERM", 5_000)));
  expect(engine.mostExiting).toBe(4);
  for (const c of containers) expect(c.names).toEqual(["SIGTERM"]);
});

test("containers that ignore the stop signal keep their whole grace period, then are killed a few at a time", async () => {
  const engine = new Engine();
  const pacer = new StopPacer(2, 20);
  const containers = Array.from({ length: 8 }, () => new FakeContainer(engine, false, 15));
  const began = performance.now();
  await Promise.all(containers.map((c) => pacer.stop(c, "SIGQUIT", 150)));
  expect(engine.mostExiting).toBe(2);
  for (const c of containers) {
    expect(c.names).toEqual(["SIGQUIT", "SIGKILL"]);
    const [stopAt, killAt] = c.signals.map((s) => s.at - began) as [number, number];
    // The grace period counts from the stop, not from the signal: waiting for a turn spends it.
    expect(killAt).toBeGreaterThanOrEqual(150 - 2);
    expect(stopAt).toBeLessThan(150);
  }
  // 8 signals at 2 a time with 20 ms turns fit in the grace period; the stops do not queue behind it.
  expect(performance.now() - began).toBeLessThan(150 + 8 * 15 + 500);
});

test("a container that exits after its turn but within the grace period is not killed", async () => {
  const engine = new Engine();
  const slow = new FakeContainer(engine, true, 60);
  await new StopPacer(1, 10).stop(slow, "SIGTERM", 1_000);
  expect(slow.names).toEqual(["SIGTERM"]);
});

test("a container that is not running gets one signal and nothing more; a zero grace period kills at once", async () => {
  const engine = new Engine();
  const pacer = new StopPacer(1, 1_000);
  const stopped = new FakeContainer(engine, true, 10, false);
  await pacer.stop(stopped, "SIGTERM", 1_000);
  expect(stopped.names).toEqual(["SIGTERM"]);

  const stubborn = new FakeContainer(engine, false, 10);
  const began = performance.now();
  await pacer.stop(stubborn, "SIGTERM", 0);
  expect(stubborn.names).toEqual(["SIGTERM", "SIGKILL"]);
  expect(performance.now() - began).toBeLessThan(500);
});

test("a signal the engine refuses fails the stop and frees its turn", async () => {
  const pacer = new StopPacer(1, 1_000);
  const broken: StopTarget = { signal: async () => Promise.reject(new Error("engine gone")), exited: new Promise<void>(() => undefined) };
  await expect(pacer.stop(broken, "SIGTERM", 1_000)).rejects.toThrow("engine gone");
  const engine = new Engine();
  const next = new FakeContainer(engine, true, 5);
  await pacer.stop(next, "SIGTERM", 1_000);
  expect(next.names).toEqual(["SIGTERM"]);
});

test("a killed container whose exit is slow to come holds its turn no longer than the others do", async () => {
  const engine = new Engine();
  const pacer = new StopPacer(1, 20);
  const stuck = new FakeContainer(engine, false, 400);
  const stopping = pacer.stop(stuck, "SIGTERM", 0);
  await Bun.sleep(5);
  const next = new FakeContainer(engine, true, 5);
  const began = performance.now();
  await pacer.stop(next, "SIGTERM", 1_000);
  // Its turn ends 20 ms after the SIGKILL, long before the exit at 400 ms.
  expect(performance.now() - began).toBeLessThan(250);
  await stopping;
  expect(stuck.names).toEqual(["SIGTERM", "SIGKILL"]);
});
