import { describe, expect, test } from "bun:test";
import { toJobFile } from "../../src/cli/job.ts";
import { parseJobFile, validateJob } from "../../src/model/job-schema.ts";
import { SCHEDULER_ALGORITHMS } from "../../src/model/job.ts";
import { ALGORITHMS } from "../../src/scheduler/index.ts";

const issuesOf = (input: unknown): string[] => {
  try {
    validateJob(input);
    return [];
  } catch (err) {
    return (err as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`);
  }
};
const task = { name: "http", image: "img" };

describe("scheduler: and spread: in the job file", () => {
  test("the model's algorithm names are the scheduler's", () => {
    expect([...ALGORITHMS]).toEqual([...SCHEDULER_ALGORITHMS]);
  });

  test("are optional and absent from the spec when not given", () => {
    const spec = validateJob({ name: "web", tasks: [task] });
    expect("scheduler" in spec || "spread" in spec || "spread" in (spec.tasks[0] ?? {})).toBe(false);
  });

  test("are read at job and task level; a spread's weight defaults to 50", () => {
    const spec = parseJobFile(`
name: web
scheduler: epvm
spread: [{ attribute: node.datacenter }]
tasks:
  - name: http
    image: img
    spread: [{ attribute: node.label.rack, weight: 80 }]
`);
    expect(spec.scheduler).toBe("epvm");
    expect(spec.spread).toEqual([{ attribute: "node.datacenter", weight: 50 }]);
    expect(spec.tasks[0]?.spread).toEqual([{ attribute: "node.label.rack", weight: 80 }]);
    expect(parseJobFile(Bun.YAML.stringify(toJobFile(spec), null, 2))).toEqual(spec);
  });

  test("bad values are refused with the field's path", () => {
    expect(issuesOf({ name: "web", scheduler: "fastest", tasks: [task] })[0]).toStartWith("scheduler: ");
    expect(issuesOf({ name: "web", spread: [{ attribute: "rack" }], tasks: [task] })).toEqual([
      "spread[0].attribute: spread attribute must be node.datacenter, node.name, node.id or node.label.<key>",
    ]);
    expect(issuesOf({ name: "web", tasks: [{ ...task, spread: [{ attribute: "node.id", weight: 101 }] }] })[0]).toStartWith("tasks[0].spread[0].weight: ");
    expect(issuesOf({ name: "web", tasks: [{ ...task, spread: [{ attribute: "node.id", extra: 1 }] }] })).toEqual(["tasks[0].spread[0].extra: unknown field"]);
    expect(issuesOf({ name: "web", tasks: [{ ...task, spread: [] }] })[0]).toStartWith("tasks[0].spread: ");
    expect(issuesOf({ name: "web", spread: [{ attribute: "node.id" }, { attribute: "node.id" }], tasks: [task] })).toEqual(["spread[1].attribute: node.id is spread over twice"]);
  });
});
