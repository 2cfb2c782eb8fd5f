/** Links to the next page of a list (`?next=`), and back to its first page when this is a later one. */
export function Pager({ path, next, paged }: { path: string; next: string | null; paged: boolean }) {
  if (next === null && !paged) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {paged && <a href={path}>First page</a>}
      {next !== null && (
        <a href={`${path}?next=${encodeURIComponent(next)}`} rel="next">
          Next page
        </a>
      )}
    </nav>
  );
}
