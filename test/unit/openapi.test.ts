import { beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020";
import type { Hono } from "hono";
import { createManagerApp } from "../../src/api/manager-app.ts";
import { openApiPath } from "../../src/api/openapi.ts";
import { EXAMPLE_JOB } from "../../src/api/route-docs.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Manager } from "../../src/manager/manager.ts";
import type { HttpMethod, OpenApiDocument } from "../../src/model/openapi.ts";
import { openStore } from "../../src/store/index.ts";

/**
 * The API document (`GET /v1/openapi.json`) against the app that serves the API: every route in it,
 * valid OpenAPI 3.1, its job schema the one the API validates with, and the dashboard's reference page.
 */
const log = createLogger("test", "error");
let app: Hono;
let document: OpenApiDocument;
/** The document as the wire carried it, for the validator, which may change what it is given. */
let documentText = "";
const tokens: Record<"read" | "admin", string> = { read: "", admin: "" };

/** The dashboard (`/`, which sends browsers to `/ui`, and every page and asset under `/ui`) is HTML for people, not API: the only routes the document leaves out. */
const isDashboard = (path: string) => path === "/" || path === "/ui" || path.startsWith("/ui/");

function operations(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
}

/** Every `$ref` in the document, anywhere. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, v]) => (key === "$ref" && typeof v === "string" ? [v] : refsIn(v)));
}

/** What a local reference (`#/components/schemas/JobFile`) points at in the document, or undefined. */
function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((at, part) => (at !== null && typeof at === "object" ? (at as Record<string, unknown>)[part] : undefined), doc);
}

beforeAll(async () => {
  const manager = new Manager({ store: openStore(":memory:"), log });
  app = createManagerApp({ manager, log, version: "9.8.7" });
  tokens.read = manager.tokens.create("read", "read").secret;
  tokens.admin = manager.tokens.create("admin", "admin").secret;
  // Anonymous on purpose: the document is public.
  const res = await app.request("/v1/openapi.json");
  expect(res.status).toBe(200);
  documentText = await res.text();
  document = JSON.parse(documentText) as OpenApiDocument;
});

describe("the document covers the app", () => {
  test("every route the app serves (but the dashboard) is in the document with its method, and nothing else is", () => {
    const served = app.routes.filter((r) => r.method !== "ALL" && !isDashboard(r.path)).map((r) => `${r.method} ${openApiPath(r.path)}`);
    const documented = operations(document);
    expect(served.length).toBeGreaterThan(40);
    expect({ undocumented: served.filter((op) => !documented.includes(op)) }).toEqual({ undocumented: [] });
    expect({ notServed: documented.filter((op) => !served.includes(op)) }).toEqual({ notServed: [] });
  });

  test("each path parameter is declared, each operation says who may call it, operation ids are unique", () => {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(document.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string).sort();
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect({ where, params: op.parameters.filter((p) => p.in === "path").map((p) => p.name).sort() }).toEqual({ where, params: inPath });
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        expect(op.description).toMatch(/Anyone may call this|Needs /);
        expect(Array.isArray(op["x-cube-roles"])).toBe(true);
        expect(op.security.length === 0).toBe(op["x-cube-requires"] === "public");
      }
    }
  });

  test("roles are those the app enforces", () => {
    const op = (method: HttpMethod, path: string) => document.paths[path]?.[method];
    expect(op("get", "/v1/health")?.["x-cube-roles"]).toEqual([]);
    expect(op("get", "/v1/openapi.json")?.security).toEqual([]);
    expect(op("get", "/v1/jobs")?.["x-cube-roles"]).toEqual(["read", "submit", "admin"]);
    expect(op("post", "/v1/jobs")?.["x-cube-roles"]).toEqual(["submit", "admin"]);
    expect(op("post", "/v1/keyring/rotate")?.["x-cube-roles"]).toEqual(["admin"]);
    expect(op("post", "/v1/nodes/register")?.["x-cube-roles"]).toEqual(["join", "worker"]);
    expect(op("post", "/v1/nodes/{id}/heartbeat")?.["x-cube-requires"]).toBe("node");
    expect(op("get", "/v1/events")?.security.map((s) => Object.keys(s)[0])).toContain("queryToken");
    expect(op("get", "/v1/jobs")?.security.map((s) => Object.keys(s)[0])).not.toContain("queryToken");
  });

  test("lists document their paging, and errors their JSON shape", () => {
    const params = document.paths["/v1/tasks"]?.get?.parameters.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(["limit", "next", "job", "node", "state"]));
    expect(document.paths["/v1/jobs/{name}"]?.get?.responses["404"]).toEqual({ $ref: "#/components/responses/NotFound" });
    expect(document.components.schemas.Error?.required).toEqual(["error"]);
    expect(document.info.version).toBe("9.8.7");
  });
});

describe("the document is valid", () => {
  test("OpenAPI 3.1 by the specification's own schema", async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(documentText));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  test("every schema is valid JSON Schema 2020-12 (the specification's schema does not look inside them)", () => {
    const ajv = new Ajv2020({ strict: false });
    const schemas = Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((op) => [
        ...op.parameters.map((p) => p.schema),
        ...Object.values(op.requestBody?.content ?? {}).map((m) => m.schema),
        ...Object.values(op.responses).flatMap((r) => ("content" in r ? Object.values(r.content ?? {}).map((m) => m.schema) : [])),
      ]),
    );
    schemas.push(...Object.values(document.components.schemas));
    for (const schema of schemas) {
      if (!ajv.validateSchema(schema)) throw new Error(`${JSON.stringify(schema).slice(0, 200)}: ${ajv.errorsText()}`);
    }
    expect(schemas.length).toBeGreaterThan(100);
  });

  test("every $ref resolves", () => {
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(20);
    expect(refs.filter((ref) => resolvePointer(document, ref) === undefined)).toEqual([]);
  });
});

describe("request bodies are the schemas the API validates with", () => {
  /** The body schema of POST /v1/jobs, compiled as the document has it (its `$ref` resolved in the document). */
  const jobFileValidator = () => {
    // zod writes `format: "starts_with"` beside the pattern that checks it: an annotation only.
    const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { starts_with: true } });
    ajv.addSchema(JSON.parse(documentText), "cube");
    const schema = document.paths["/v1/jobs"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(schema?.$ref).toBe("#/components/schemas/JobFile");
    return ajv.compile({ $ref: `cube${schema?.$ref}` });
  };

  test("the example job of POST /v1/jobs fits its schema, and the API accepts it (as JSON and as YAML)", async () => {
    const validJobFile = jobFileValidator();
    const example = document.paths["/v1/jobs"]?.post?.requestBody?.content["application/json"]?.example;
    expect(example).toEqual(EXAMPLE_JOB);
    expect(validJobFile(example)).toBe(true);
    const submitted = await app.request("/v1/jobs", { method: "POST", headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" }, body: JSON.stringify(example) });
    expect(submitted.status).toBe(201);
    const yaml = `name: web-yaml\ntasks:\n  - name: http\n    image: cube-test/busybox:latest\n    resources: { cpu: 0.5, memory: 32 }\n    restart: { delay: 5s }\n`;
    expect(validJobFile(Bun.YAML.parse(yaml))).toBe(true);
    const asYaml = await app.request("/v1/jobs", { method: "POST", headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/yaml" }, body: yaml });
    expect(asYaml.status).toBe(201);
  });

  test("what the API refuses for a field's sake the schema refuses too", async () => {
    const validJobFile = jobFileValidator();
    const refused = [
      { ...EXAMPLE_JOB, bogus: true },
      { ...EXAMPLE_JOB, name: "Not A Name" },
      { ...EXAMPLE_JOB, type: "daemon" },
      { ...EXAMPLE_JOB, tasks: [] },
      { ...EXAMPLE_JOB, tasks: [{ name: "http", image: "img", count: -1 }] },
    ];
    for (const job of refused) {
      expect(validJobFile(job)).toBe(false);
      const res = await app.request("/v1/plan", { method: "POST", headers: { authorization: `Bearer ${tokens.admin}`, "content-type": "application/json" }, body: JSON.stringify(job) });
      expect(res.status).toBe(400);
    }
  });
});

describe("the API reference page", () => {
  test("/ui/api lists every path with its methods, and the dashboard's navigation links to it", async () => {
    const res = await app.request("/ui/api", { headers: { authorization: `Bearer ${tokens.read}` } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<a href="/ui/api" aria-current="page">API</a>');
    expect(html).toContain('href="/v1/openapi.json"');
    for (const op of operations(document)) {
      const [method, path] = op.split(" ") as [string, string];
      expect(html).toContain(`<span class="badge method method-${method.toLowerCase()}">${method}</span> <code class="op-path">${path}</code>`);
    }
    // The body of POST /v1/jobs, field by field, nested ones included.
    expect(html).toContain("<code>tasks[].resources.cpu</code>");
    const overview = await (await app.request("/ui", { headers: { authorization: `Bearer ${tokens.read}` } })).text();
    expect(overview).toContain('<a href="/ui/api">API</a>');
  });
});
