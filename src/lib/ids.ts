/** Random identifiers for tasks, nodes and evaluations; uuids so prefixes are unique in practice. */
export function newId(): string {
  return crypto.randomUUID();
}

/** The first 8 characters, which is how tables show ids (and what `cube logs` accepts as a prefix). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}
