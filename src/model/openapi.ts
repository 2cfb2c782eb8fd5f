/**
 * The part of OpenAPI 3.1 that Cube's API document uses: built by api/openapi.ts (served at
 * `/v1/openapi.json`), read by the dashboard's API reference page.
 */
import type { Requirement, TokenRole } from "./token.ts";

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect); the fields named are those the reference page shows. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  [keyword: string]: unknown;
}

export interface Reference {
  $ref: string;
}

export interface OpenApiParameter {
  name: string;
  in: "path" | "query";
  description: string;
  required: boolean;
  schema: JsonSchema;
}

export interface OpenApiMediaType {
  schema: JsonSchema;
  example?: unknown;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, OpenApiMediaType>;
}

export interface OpenApiOperation {
  operationId: string;
  tags: [string];
  summary: string;
  description: string;
  parameters: OpenApiParameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse | Reference>;
  /** No entry for a public route; several entries are alternatives. */
  security: Record<string, string[]>[];
  /** What route-roles.ts asks of the caller. */
  "x-cube-requires": Requirement;
  /** The token roles that pass; empty when anyone may call. */
  "x-cube-roles": TokenRole[];
}

export type HttpMethod = "get" | "post" | "put" | "delete";

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, OpenApiResponse>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}
