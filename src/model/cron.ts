import { Cron } from "croner";

/** Fields a schedule may have: minute hour day month weekday, or seconds before them. */
const FIELD_COUNTS = [5, 6];

function cron(expression: string, timezone: string): Cron {
  return new Cron(expression, { timezone, paused: true });
}

/**
 * Why a cron expression (read in `timezone`) cannot be a job's schedule, or null when it can: 5
 * fields, or 6 with seconds first (croner parses them, so `*\/15`, ranges, lists, `L`, names and
 * `@hourly`-style nicknames all work), and a time that ever comes. Check the time zone first (timezoneProblem).
 * @example cronProblem("*\/15 * * * *", "UTC") // null
 */
export function cronProblem(expression: string, timezone: string): string | null {
  const fields = expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith("@") && !FIELD_COUNTS.includes(fields)) {
    return `"${expression}" is not a cron expression: it has ${fields} field${fields === 1 ? "" : "s"}; give 5 (minute hour day month weekday) or 6 (seconds first)`;
  }
  try {
    if (cron(expression, timezone).nextRun(new Date(0)) === null) return `"${expression}" never comes due`;
  } catch (err) {
    return `"${expression}" is not a cron expression: ${(err as Error).message.replace(/^CronPattern: /, "")}`;
  }
  return null;
}

/** Why `timezone` is not a time zone, or null when it is one. */
export function timezoneProblem(timezone: string): string | null {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
    return null;
  } catch {
    return `"${timezone}" is not a time zone (use an IANA name such as UTC or Europe/Paris)`;
  }
}

/** The latest time the schedule comes due at or before `atOrBefore` (ms), or null. Pure: the clock is the caller's. */
export function latestDue(expression: string, timezone: string, atOrBefore: number): number | null {
  return cron(expression, timezone).previousRuns(1, new Date(atOrBefore + 1))[0]?.getTime() ?? null;
}

/** The first time the schedule comes due strictly after `after` (ms), or null when it never does again. */
export function nextDue(expression: string, timezone: string, after: number): number | null {
  return cron(expression, timezone).nextRun(new Date(after))?.getTime() ?? null;
}
