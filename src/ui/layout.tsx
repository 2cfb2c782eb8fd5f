import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { browserScript, stylesheet } from "./assets.ts";
import { paths } from "./view.ts";

export type Section = "overview" | "nodes" | "jobs" | "api";

/**
 * How the browser script keeps the `#live` region current: re-fetch it on cluster events that match
 * `watch` (`job:web`, `node:<id>`, `task:<id>`; none means every event), and every `poll` ms for what
 * changes without an event (heartbeat stats).
 */
export interface LiveOptions {
  watch?: string[];
  poll?: number;
}

export interface LayoutProps extends LiveOptions {
  title: string;
  section?: Section;
  /** Replaced on every live refresh. */
  live: Child;
  /** Kept across refreshes: what the browser script fills itself, like a followed log. */
  after?: Child;
}

/** What a page handler returns; the app renders it whole, or only its `live` part for a refresh. */
export type Page = LayoutProps;

const SECTIONS: { id: Section; label: string; href: string }[] = [
  { id: "overview", label: "Overview", href: paths.overview },
  { id: "nodes", label: "Nodes", href: paths.nodes },
  { id: "jobs", label: "Jobs", href: paths.jobs },
  { id: "api", label: "API", href: paths.api },
];

export function Layout({ title, section, live, after, watch, poll }: LayoutProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Cube`}</title>
        <link rel="stylesheet" href={stylesheet.url} />
        <script src={browserScript.url} defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <nav aria-label="Main">
            <a class="brand" href={paths.overview}>
              Cube
            </a>
            <ul>
              {SECTIONS.map((s) => (
                <li>
                  <a href={s.href} aria-current={s.id === section ? "page" : undefined}>
                    {s.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <span id="live-status" class="live-status" role="status">
            connecting…
          </span>
        </header>
        <main id="main" tabindex={-1}>
          <div id="flash" class="flash" role="alert" hidden />
          <div id="live" data-watch={watch?.join(" ")} data-poll={poll}>
            {live}
          </div>
          {after}
        </main>
      </body>
      </html>
    </>
  );
}
