import { describe, expect, test } from "bun:test";
import { toJobFile } from "../../src/cli/job.ts";
import { secretEnvWarnings } from "../../src/cli/secret-env-warnings.ts";
import { parseJobFile, validateJob } from "../../src/model/job-schema.ts";
import { pinSecretVersions } from "../../src/manager/secret-refs.ts";
import { issuesOf } from "./fixtures.ts";

const withSecrets = (secrets: unknown[], extra: Record<string, unknown> = {}) => ({ name: "web", tasks: [{ name: "http", image: "img", secrets, ...extra }] });

describe("secrets in a job file", () => {
  test("file defaults to /run/secrets/NAME; env is kept only when given", () => {
    const spec = validateJob(withSecrets([{ name: "db_password", env: "DB_PASSWORD" }, { name: "tls.key", file: "/etc/tls/key.pem" }]));
    expect(spec.tasks[0]?.secrets).toEqual([
      { name: "db_password", file: "/run/secrets/db_password", env: "DB_PASSWORD" },
      { name: "tls.key", file: "/etc/tls/key.pem" },
    ]);
    expect(validateJob(withSecrets([])).tasks[0]).not.toHaveProperty("secrets");
  });

  test("names, files and env names are checked, with the field's path", () => {
    expect(issuesOf(withSecrets([{ name: "../etc" }]))[0]?.path).toBe("tasks[0].secrets[0].name");
    expect(issuesOf(withSecrets([{ name: "db", file: "relative/path" }]))[0]?.path).toBe("tasks[0].secrets[0].file");
    expect(issuesOf(withSecrets([{ name: "db", env: "1BAD" }]))[0]?.path).toBe("tasks[0].secrets[0].env");
    expect(issuesOf(withSecrets([{ name: "db", value: "hunter2" }]))).toEqual([{ path: "tasks[0].secrets[0].value", message: "unknown field" }]);
    expect(issuesOf(withSecrets([{ name: "db", version: 3 }]))).toEqual([{ path: "tasks[0].secrets[0].version", message: "unknown field" }]);
  });

  test("a secret listed twice, two on one file, or an env name set twice is refused", () => {
    expect(issuesOf(withSecrets([{ name: "db" }, { name: "db" }]))).toContainEqual({ path: "tasks[0].secrets[1].name", message: 'secret "db" is listed twice' });
    expect(issuesOf(withSecrets([{ name: "a", file: "/s" }, { name: "b", file: "/s" }]))).toEqual([{ path: "tasks[0].secrets[1].file", message: "/s is already the target of another secret or mount" }]);
    expect(issuesOf(withSecrets([{ name: "a", env: "X" }], { env: { X: "1" } }))).toEqual([{ path: "tasks[0].secrets[0].env", message: "X is already set by env or another secret" }]);
    expect(issuesOf(withSecrets([{ name: "a", file: "/data" }], { mounts: [{ source: "/srv", target: "/data" }] }))).toEqual([{ path: "tasks[0].secrets[0].file", message: "/data is already the target of another secret or mount" }]);
  });

  test("the manager pins each secret to the version it is given, and names those it does not know", () => {
    const spec = validateJob({ name: "web", tasks: [{ name: "a", image: "img", secrets: [{ name: "db" }, { name: "gone" }] }, { name: "b", image: "img" }] });
    const { spec: pinned, issues } = pinSecretVersions(spec, (name) => (name === "db" ? 3 : undefined));
    expect(pinned.tasks[0]?.secrets).toEqual([
      { name: "db", file: "/run/secrets/db", version: 3 },
      { name: "gone", file: "/run/secrets/gone" },
    ]);
    expect(pinned.tasks[1]).toBe(spec.tasks[1] as NonNullable<(typeof spec.tasks)[1]>);
    expect(issues).toEqual([{ path: "tasks[0].secrets[1].name", message: "secret gone does not exist (an admin makes it with: cube secret put gone -)" }]);
  });

  test("cube job inspect prints the secrets without the manager's pin, so the file can be submitted again", () => {
    const spec = parseJobFile("name: web\ntasks:\n  - name: http\n    image: img\n    secrets: [{ name: db, env: DB }]\n");
    const pinned = pinSecretVersions(spec, () => 7).spec;
    const yaml = Bun.YAML.stringify(toJobFile(pinned), null, 2);
    expect(yaml).not.toContain("version");
    expect(parseJobFile(yaml)).toEqual(spec);
  });

  test("cube run warns about each secret given as env, naming the task and where the value shows", () => {
    const spec = validateJob(withSecrets([{ name: "db", env: "DB_PASSWORD" }, { name: "quiet" }]));
    expect(secretEnvWarnings(spec)).toEqual(["warning: task http gets secret db as env DB_PASSWORD: `docker inspect` on its node shows the value (the file /run/secrets/db does not)"]);
  });
});
