import { shortId } from "../lib/ids.ts";
import type { TaskView } from "../model/api-types.ts";
import { formatAge, formatPorts, formatTable } from "./table.ts";

/** The tasks table shared by `cube status JOB` and `cube tasks`. */
export function taskTable(tasks: TaskView[], now = Date.now()): string {
  return formatTable(
    ["id", "name", "node", "state", "health", "desired", "ports", "restarts", "age", "message"],
    tasks.map((t) => [
      shortId(t.id),
      t.name,
      t.nodeName ?? "-",
      t.state,
      t.health ?? "-",
      t.desired,
      formatPorts(t.hostPorts),
      String(t.restarts),
      formatAge(t.createdAt, now),
      t.message,
    ]),
  );
}
