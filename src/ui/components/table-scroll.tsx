import type { Child } from "hono/jsx";

/**
 * A table that scrolls sideways inside its own box on a narrow screen instead of widening the page.
 * The box is a labelled, focusable region so keyboard users can scroll it too.
 */
export function TableScroll({ label, children }: { label: string; children: Child }) {
  return (
    <div class="scroll" role="region" aria-label={label} tabindex={0}>
      <table>
        <caption class="visually-hidden">{label}</caption>
        {children}
      </table>
    </div>
  );
}
