import { describe, expect, test } from "bun:test";
import { jobFileFormat } from "../../src/model/job-file-format.ts";
import { parseJobFile } from "../../src/model/job-schema.ts";
import { ApiHarness } from "./api-harness.ts";

const yaml = "name: web\ntasks:\n  - name: http\n    image: img\n";
const json = '{"name": "web", "tasks": [{"name": "http", "image": "img"}]}';

describe("jobFileFormat", () => {
  test("a .json, .yaml or .yml name decides over the text", () => {
    expect(jobFileFormat(yaml, { name: "jobs/web.json" })).toBe("json");
    expect(jobFileFormat(json, { name: "web.yaml" })).toBe("yaml");
    expect(jobFileFormat(json, { name: "/tmp/WEB.YML" })).toBe("yaml");
    expect(jobFileFormat(yaml, { name: "WEB.JSON" })).toBe("json");
  });

  test("a name without a known extension, or -, leaves it to the text", () => {
    for (const name of ["-", "job", "job.txt", "json", ".json.bak"]) {
      expect(jobFileFormat(json, { name })).toBe("json");
      expect(jobFileFormat(yaml, { name })).toBe("yaml");
    }
  });

  test("a JSON or YAML content type decides over the name and the text", () => {
    for (const contentType of ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.cube.job+json", " text/json"]) {
      expect(jobFileFormat(yaml, { contentType, name: "web.yaml" })).toBe("json");
    }
    for (const contentType of ["application/yaml", "application/x-yaml", "text/yaml; charset=utf-8", "text/x-yaml", "application/vnd.cube.job+yaml"]) {
      expect(jobFileFormat(json, { contentType, name: "web.json" })).toBe("yaml");
    }
  });

  test("any other content type, or none, leaves it to the name, then the text", () => {
    for (const contentType of [undefined, "", "text/plain", "application/x-www-form-urlencoded", "application/jsonl", "application/yamlish"]) {
      expect(jobFileFormat(yaml, { contentType })).toBe("yaml");
      expect(jobFileFormat(json, { contentType })).toBe("json");
      expect(jobFileFormat(yaml, { contentType, name: "web.json" })).toBe("json");
    }
  });

  test("from the text: JSON opens with { or [ after any whitespace", () => {
    expect(jobFileFormat(json)).toBe("json");
    expect(jobFileFormat(`\n\t  ${json}`)).toBe("json");
    expect(jobFileFormat(`\uFEFF${json}`)).toBe("json");
    expect(jobFileFormat("[1, 2]")).toBe("json");
  });

  test("from the text: anything else is YAML, leading blank lines and comments included", () => {
    expect(jobFileFormat(yaml)).toBe("yaml");
    expect(jobFileFormat(`\n\n  \n${yaml}`)).toBe("yaml");
    expect(jobFileFormat(`# a job {with braces} in the comment\n${yaml}`)).toBe("yaml");
    // JSON has no comments, so a commented flow mapping is YAML even though it opens with { after the comment.
    expect(jobFileFormat(`# web\n{ name: web, tasks: [{ name: http, image: img }] }\n`)).toBe("yaml");
    expect(jobFileFormat("---\nname: web\n")).toBe("yaml");
    expect(jobFileFormat("")).toBe("yaml");
  });
});

describe("parseJobFile without a format", () => {
  test("reads YAML with a leading comment, commented flow YAML and JSON to the same spec", () => {
    const spec = parseJobFile(yaml);
    expect(spec.name).toBe("web");
    expect(parseJobFile(`  # web\n\n${yaml}`)).toEqual(spec);
    expect(parseJobFile(`# web\n{ name: web, tasks: [{ name: http, image: img }] }\n`)).toEqual(spec);
    expect(parseJobFile(`\n  ${json}`)).toEqual(spec);
  });

  test("text that opens like JSON gets JSON's error", () => {
    expect(() => parseJobFile('{"name": "web",')).toThrow(/not valid JSON/);
    expect(() => parseJobFile("name: [")).toThrow(/not valid YAML/);
  });
});

describe("POST /v1/jobs and POST /v1/plan", () => {
  test("read the body in the format its content type says, else in the one its text says", async () => {
    const h = new ApiHarness();
    // Flow YAML opens like JSON, so only the content type can make it YAML.
    const flow = "{ name: web, tasks: [{ name: http, image: img }] }";
    for (const path of ["/v1/jobs", "/v1/plan"]) {
      expect((await h.call("POST", path, flow, "application/yaml")).ok).toBe(true);
      const asJson = await h.call("POST", path, flow, "application/json");
      expect(asJson.status).toBe(400);
      expect(((await asJson.json()) as { error: { message: string } }).error.message).toContain("not valid JSON");
      expect((await h.call("POST", path, yaml, "text/plain")).ok).toBe(true);
      expect((await h.call("POST", path, json, "text/plain")).ok).toBe(true);
    }
  });
});
