import { BadRequestError } from "../lib/errors.ts";

/** `?limit=N&next=TOKEN`: no limit means the whole list, as Kubernetes and Nomad answer. */
export interface PageRequest {
  limit?: number;
  next?: string;
}

export interface Page<T> {
  items: T[];
  /** Where the following page starts; null on the last. */
  next: string | null;
}

/** Most items one page may ask for. */
export const MAX_PAGE = 10_000;

/** The token of the page after `last`: the list's name and the item's sort key, opaque to clients. */
export function tokenAfter(list: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString("base64url");
}

/**
 * The sort key a token carries, checked against the shape the list expects (a token of another list,
 * or one that was edited, is a 400 that names the parameter).
 * @example keyOf("nodes", tokenAfter("nodes", ["n1"]), ["string"]) // ["n1"]
 */
export function keyOfToken(list: string, token: string, shape: readonly ("string" | "number")[]): (string | number)[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    decoded = undefined;
  }
  const valid = Array.isArray(decoded) && decoded[0] === list && decoded.length === shape.length + 1 && shape.every((type, i) => typeof decoded[i + 1] === type);
  if (!valid) throw new BadRequestError(`query parameter next: "${token}" is not a token of the ${list} list; pass back the \`next\` of the page before`);
  return (decoded as unknown[]).slice(1) as (string | number)[];
}

/**
 * One page of a list walked in order: up to `limit` items of `items` (read one further, to know
 * whether the list goes on), and the token after the last one when it does.
 */
export function pageOf<T, V>(list: string, items: Iterable<T>, limit: number | undefined, key: (item: T) => readonly (string | number)[], view: (item: T) => V): Page<V> {
  const max = limit ?? Number.POSITIVE_INFINITY;
  const taken: T[] = [];
  let more = false;
  for (const item of items) {
    if (taken.length >= max) {
      more = true;
      break;
    }
    taken.push(item);
  }
  const last = taken.at(-1);
  return { items: taken.map(view), next: more && last !== undefined ? tokenAfter(list, key(last)) : null };
}
