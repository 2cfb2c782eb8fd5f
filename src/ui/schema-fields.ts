import type { JsonSchema } from "../model/openapi.ts";

/** One field of a body as the API reference lists it: `tasks[].resources.cpu`, its type, and its limits. */
export interface SchemaField {
  path: string;
  type: string;
  required: boolean;
  notes: string[];
}

/** Looks up a `$ref` of the document (`#/components/schemas/Name`). */
export type ResolveRef = (ref: string) => JsonSchema | undefined;

// A schema that refers to itself would be walked for ever; none of Cube's does, and none is this deep.
const MAX_DEPTH = 12;

/** A schema's type in a few words: `string`, `integer[]`, `"fail" | "delay"`, `map of string`. */
export function typeOf(schema: JsonSchema, resolve: ResolveRef): string {
  if (schema.$ref) return typeOf(resolve(schema.$ref) ?? {}, resolve);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const members = schema.anyOf ?? schema.oneOf;
  if (members) return members.map((m) => typeOf(m, resolve)).join(" | ");
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  if (schema.type === "array") return `${schema.items ? typeOf(schema.items, resolve) : "any"}[]`;
  if (schema.type === "object" && !schema.properties && typeof schema.additionalProperties === "object") return `map of ${typeOf(schema.additionalProperties, resolve)}`;
  return schema.type ?? "any";
}

/** The limits and defaults of a field, each as a short phrase. */
function notesOf(schema: JsonSchema): string[] {
  const notes: string[] = [];
  const limit = (word: string, value: unknown) => value !== undefined && notes.push(`${word} ${String(value)}`);
  limit("≥", schema.minimum);
  limit(">", schema.exclusiveMinimum);
  limit("≤", schema.maximum);
  limit("<", schema.exclusiveMaximum);
  limit("min length", schema.minLength);
  limit("max length", schema.maxLength);
  limit("min items", schema.minItems);
  limit("max items", schema.maxItems);
  limit("format", schema.format);
  limit("pattern", schema.pattern);
  if (schema.propertyNames?.pattern) notes.push(`keys match ${schema.propertyNames.pattern}`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.description) notes.push(schema.description);
  return notes;
}

/**
 * A body's fields, nested ones included (`tasks[].ports[].container`), in the schema's order.
 * @example schemaFields({ type: "object", properties: { name: { type: "string" } }, required: ["name"] }, () => undefined)
 * // [{ path: "name", type: "string", required: true, notes: [] }]
 */
export function schemaFields(schema: JsonSchema, resolve: ResolveRef): SchemaField[] {
  const fields: SchemaField[] = [];
  const walk = (node: JsonSchema, prefix: string, depth: number): void => {
    const s = node.$ref ? (resolve(node.$ref) ?? {}) : node;
    if (depth > MAX_DEPTH) return;
    if (s.type === "array" && s.items) return walk(s.items, `${prefix}[]`, depth + 1);
    if (s.type === "object" && !s.properties && typeof s.additionalProperties === "object") return walk(s.additionalProperties, `${prefix}.<key>`, depth + 1);
    for (const [name, child] of Object.entries(s.properties ?? {})) {
      const path = prefix ? `${prefix}.${name}` : name;
      const resolved = child.$ref ? (resolve(child.$ref) ?? {}) : child;
      fields.push({ path, type: typeOf(resolved, resolve), required: s.required?.includes(name) ?? false, notes: notesOf(resolved) });
      walk(resolved, path, depth + 1);
    }
  };
  walk(schema, "", 0);
  return fields;
}
