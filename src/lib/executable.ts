/** Where a compiled executable's own entry point lives (process.argv[1] there). */
const EMBEDDED_ENTRY = /^(\/\$bunfs\/|[A-Z]:[/\\]~BUN[/\\])/;

/** Whether this process runs the compiled `cube` executable rather than the sources. */
export function isCompiled(entry = process.argv[1] ?? ""): boolean {
  return EMBEDDED_ENTRY.test(entry);
}
