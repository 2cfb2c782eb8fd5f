import { expect, test } from "bun:test";
import { toJobFile } from "../../src/cli/job.ts";
import { parseJobFile } from "../../src/model/job-schema.ts";

test("cube job inspect prints a spec that parses back to the same job", () => {
  const spec = parseJobFile(`
name: web
update: { max_parallel: 2, min_healthy_time: 5s, healthy_deadline: 1m, auto_revert: true }
tasks:
  - name: http
    image: cube-test/busybox:latest
    command: ["httpd", "-f", "-p", "8080"]
    count: 3
    ports: [{ name: http, container: 8080 }]
    restart: { attempts: 3, interval: 5m, delay: 1500ms, mode: delay }
    health: { http: /, port: http, interval: 5s, timeout: 2s, failures: 3 }
    disconnect: { stop_after: 30s }
    network_mode: host
    cap_add: [NET_ADMIN]
  - name: probe
    image: cube-test/busybox:latest
    health: { exec: ["true"] }
`);
  const yaml = Bun.YAML.stringify(toJobFile(spec), null, 2);
  expect(yaml).toContain("min_healthy_time: 5s");
  expect(parseJobFile(yaml)).toEqual(spec);
});
