import type { Context } from "hono";
import { BadRequestError } from "../lib/errors.ts";
import type { PageRequest } from "../manager/control-plane.ts";
import { MAX_PAGE } from "../manager/paging.ts";
import { parseDuration } from "../model/duration.ts";

/** The request body as JSON, or a 400 that says why it is not. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** A duration query parameter (`?wait=30s`) clamped to [0, max]. */
export function durationParam(c: Context, name: string, fallbackMs: number, maxMs: number): number {
  const raw = c.req.query(name);
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new BadRequestError(`query parameter ${name}: "${raw}" is not a duration (e.g. 30s)`);
  return Math.min(ms, maxMs);
}

/** A non-negative integer query parameter, or undefined when absent. */
export function intParam(c: Context, name: string): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new BadRequestError(`query parameter ${name}: "${raw}" is not a whole number`);
  return Number(raw);
}

export function boolParam(c: Context, name: string): boolean {
  const raw = c.req.query(name);
  return raw === "true" || raw === "1" || raw === "";
}

/** `?limit=N&next=TOKEN` of a list; no limit asks for the whole list. */
export function pageParams(c: Context): PageRequest {
  const limit = intParam(c, "limit");
  if (limit !== undefined && (limit < 1 || limit > MAX_PAGE)) throw new BadRequestError(`query parameter limit: ${limit} is not between 1 and ${MAX_PAGE}`);
  const next = c.req.query("next");
  return { ...(limit !== undefined ? { limit } : {}), ...(next !== undefined ? { next } : {}) };
}
