export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

function format(fields?: Record<string, unknown>): string {
  if (!fields) return "";
  return Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join("");
}

/**
 * A line-per-event logger on stderr (stdout belongs to command output). Level from CUBE_LOG_LEVEL.
 * @example createLogger("manager").info("job stored", { job: "web", version: 2 })
 */
export function createLogger(component: string, level: LogLevel = (process.env.CUBE_LOG_LEVEL as LogLevel) ?? "info"): Logger {
  const min = RANK[level] ?? RANK.info;
  const write = (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    process.stderr.write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${component}] ${message}${format(fields)}\n`);
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (sub) => createLogger(`${component}/${sub}`, level),
  };
}
