import pLimit, { type LimitFunction } from "p-limit";

/** What pacing needs of one container: send it a signal, and learn when it is no longer running. */
export interface StopTarget {
  /** Sends the signal; false when the container was not running, so there is nothing to stop. */
  signal(name: string): Promise<boolean>;
  /** Settles once the container is not running. */
  readonly exited: Promise<void>;
}

/** True when `exited` settles within `ms`; the timer never outlives the answer. */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  if (ms <= 0) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([exited.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops containers the way `docker stop` does (the stop signal, then SIGKILL once the grace period is
 * over), but lets only a few of one engine's containers exit at the same moment. Debian's Docker 20.10
 * can deadlock its network controller for good when many containers on one network exit at once
 * (moby/moby#46661, fixed only in 20.10.27): a whole job stopped in one go did that, and afterwards no
 * container on the engine could start. So the signal is sent by at most `atOnce` stops at a time, each
 * keeping its turn until its container exits or `settleMs` pass; the rest of the grace period is waited
 * out without a turn, and a SIGKILL takes a turn again, on the same terms. A job of containers that
 * exit on the signal thus stops about as fast as before, and one whose containers ignore it still gets
 * its full grace period.
 */
export class StopPacer {
  private readonly turns: LimitFunction;

  constructor(
    atOnce: number,
    private readonly settleMs: number,
  ) {
    this.turns = pLimit(atOnce);
  }

  async stop(target: StopTarget, stopSignal: string, graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    const signalled = await this.turns(async () => {
      if (!(await target.signal(stopSignal))) return false;
      await exitsWithin(target.exited, Math.min(graceMs, this.settleMs));
      return true;
    });
    if (!signalled || (await exitsWithin(target.exited, deadline - Date.now()))) return;
    // An exit the engine is slow to report keeps only its own stop waiting, not the turn.
    await this.turns(async () => {
      if (await target.signal("SIGKILL")) await exitsWithin(target.exited, this.settleMs);
    });
    await target.exited;
  }
}
