import type { Logger } from "../lib/logger.ts";
import { ChangeSet } from "./change-set.ts";
import type { ManagerContext } from "./context.ts";
import { type GarbageOptions, jobGarbage, keptRuns } from "./garbage.ts";
import type { Turns } from "./turns.ts";

/** Deletes per commit: each commit fits one etcd transaction (a turn's commits are one SQLite transaction). */
const DELETES_PER_COMMIT = 100;
/** Deletes per turn at most: a job of 10,000 finished tasks is forgotten over several turns. */
const DELETES_PER_TURN = 500;
/** How long one turn of a timed pass visits jobs before it lets the event loop serve requests. */
const TURN_MS = 2;

/** The jobs of a pass, and how far it got. */
interface Walk {
  names: string[];
  at: number;
}

export interface GarbageCounts {
  tasks: number;
  versions: number;
  jobs: number;
}

/** A timed pass under way: its walk, what it forgot so far, and the promise startPass gave for it. */
interface Pass {
  walk: Walk;
  counts: GarbageCounts;
  done: Promise<GarbageCounts>;
  end: () => void;
}

const noCounts = (): GarbageCounts => ({ tasks: 0, versions: 0, jobs: 0 });

/**
 * Trims what the manager keeps, on a timer: old finished tasks, dead jobs, old versions. A timed pass
 * visits the jobs a few at a time, in turns of the event loop (Turns), each turn deciding from the
 * state as it is then and committing what it decided, so a pass over a million tasks never holds the
 * event loop for long. A stopped job with more tasks than a turn deletes loses them over several
 * turns, then goes itself; a finished batch job goes whole, in one commit.
 */
export class GarbageCollector {
  private timer: ReturnType<typeof setInterval> | null = null;
  private pass: Pass | null = null;
  private readonly nextTurn = () => this.turn();

  constructor(
    private readonly ctx: ManagerContext,
    private readonly options: GarbageOptions,
    private readonly log: Logger,
    private readonly turns: Turns,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  start(): void {
    const period = Math.min(Math.max(1_000, this.options.afterMs / 4), 5 * 60_000);
    this.timer = setInterval(() => void this.startPass(), period);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.endPass();
  }

  /**
   * Begins a timed pass, unless one is still going; resolves with what the pass forgot once it ends
   * (or is dropped: the manager stops, a pass fails, a whole pass is run meanwhile).
   */
  startPass(): Promise<GarbageCounts> {
    if (this.pass) return this.pass.done;
    const counts = noCounts();
    let end = () => {};
    const done = new Promise<GarbageCounts>((resolve) => (end = () => resolve(counts)));
    this.pass = { walk: { names: [...this.ctx.state.jobNames()], at: 0 }, counts, done, end };
    this.turns.request(this.nextTurn);
    return done;
  }

  /** A whole pass now, in one go (a timed pass under way is dropped); returns what was forgotten. */
  collect(): GarbageCounts {
    this.endPass();
    const walk: Walk = { names: [...this.ctx.state.jobNames()], at: 0 };
    const counts = noCounts();
    while (walk.at < walk.names.length) add(counts, this.visit(walk, Number.POSITIVE_INFINITY));
    return counts;
  }

  private turn(): void {
    const pass = this.pass;
    if (!pass) return;
    try {
      add(pass.counts, this.visit(pass.walk, TURN_MS));
    } catch (err) {
      // A store that cannot take writes now (etcd without quorum) refuses the pass; the next one tries again.
      this.log.warn("garbage collection failed; the next pass tries again", { error: (err as Error).message });
      return this.endPass();
    }
    if (pass.walk.at < pass.walk.names.length) return this.turns.request(this.nextTurn);
    const { tasks, versions, jobs } = pass.counts;
    if (tasks + versions + jobs > 0) this.log.info("garbage collected", { tasks, versions, jobs });
    this.endPass();
  }

  private endPass(): void {
    this.turns.cancel(this.nextTurn);
    const pass = this.pass;
    this.pass = null;
    pass?.end();
  }

  /**
   * Visits the walk's jobs from where it got (going past each once it has nothing more to forget) until
   * `budgetMs` has passed or DELETES_PER_TURN deletes are decided, and commits those deletes.
   */
  private visit(walk: Walk, budgetMs: number): GarbageCounts {
    const { state } = this.ctx;
    const now = this.ctx.now();
    const until = this.clock() + budgetMs;
    const kept = keptRuns([...state.jobNames()].map((name) => state.job(name)?.job).filter((job) => job !== undefined));
    const deletes: ((changes: ChangeSet) => void)[] = [];
    const counts = noCounts();
    while (walk.at < walk.names.length && deletes.length < DELETES_PER_TURN && this.clock() < until) {
      const name = walk.names[walk.at] as string;
      const entry = state.job(name);
      const tasks = state.tasks.ofJob(name);
      const garbage = entry ? jobGarbage(entry.job, tasks, [...entry.versions.keys()], now, this.options, kept) : null;
      const room = DELETES_PER_TURN - deletes.length;
      // A stopped job's tasks go before it when they do not fit this turn: it stays dead without them. A
      // finished batch job goes whole: without some of its tasks, its evaluation would run those slots again.
      const inParts = garbage?.dead && entry?.job.status === "stopped" && tasks.length >= room;
      const taskIds = garbage?.dead ? (inParts ? tasks.map((t) => t.id) : []) : (garbage?.tasks ?? []);
      const versions = garbage?.versions ?? [];
      for (const id of taskIds.slice(0, room)) deletes.push((c) => c.deleteTask(id));
      for (const version of versions.slice(0, Math.max(0, room - taskIds.length))) deletes.push((c) => c.deleteVersion(name, version));
      counts.tasks += Math.min(taskIds.length, room);
      counts.versions += Math.min(versions.length, Math.max(0, room - taskIds.length));
      if (taskIds.length + versions.length > room) continue;
      if (garbage?.dead) {
        deletes.push((c) => c.deleteJob(name));
        counts.jobs++;
      }
      walk.at++;
    }
    this.ctx.commit.together(() => {
      for (let i = 0; i < deletes.length; i += DELETES_PER_COMMIT) {
        const changes = new ChangeSet(this.ctx.now());
        for (const remove of deletes.slice(i, i + DELETES_PER_COMMIT)) remove(changes);
        this.ctx.commit(changes);
      }
    });
    return counts;
  }
}

function add(total: GarbageCounts, more: GarbageCounts): void {
  total.tasks += more.tasks;
  total.versions += more.versions;
  total.jobs += more.jobs;
}
