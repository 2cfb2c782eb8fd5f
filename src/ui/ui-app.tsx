import { Hono, type Context } from "hono";
import { trimTrailingSlash } from "hono/trailing-slash";
import { BadRequestError, NotFoundError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { ControlPlane } from "../manager/control-plane.ts";
import type { OpenApiDocument } from "../model/openapi.ts";
import { assetsByName } from "./assets.ts";
import { Layout, type Page } from "./layout.tsx";
import { apiPage } from "./pages/api.tsx";
import { jobPage } from "./pages/job.tsx";
import { jobsPage } from "./pages/jobs.tsx";
import { nodePage } from "./pages/node.tsx";
import { nodesPage } from "./pages/nodes.tsx";
import { overviewPage } from "./pages/overview.tsx";
import { taskPage } from "./pages/task.tsx";
import { paths, type View } from "./view.ts";

export interface UiAppOptions {
  manager: ControlPlane;
  log: Logger;
  /** The API's OpenAPI document, shown as the API reference page. */
  apiDocument: () => OpenApiDocument;
}

/**
 * The web dashboard: server-rendered pages read from the ControlPlane, plus one small embedded script
 * (assets/dashboard.js) that re-fetches a page's `#live` region (`?fragment=1`) on cluster events and
 * turns buttons into `/v1` calls. No build step, no CDN: everything is in the binary.
 */
/** The dashboard's Hono app, to mount under `/ui`. */
export function createUiApp({ manager, log, apiDocument }: UiAppOptions): Hono {
  const usage = (nodeId: string) => manager.nodeUsage(nodeId);
  const app = new Hono();
  // `/ui/` and `/ui/jobs/` are what people type; send them to the page they meant.
  app.use(trimTrailingSlash());

  const render = (c: Context, page: (view: View) => Page) => respond(c, page({ now: Date.now(), host: new URL(c.req.url).hostname, usage, next: c.req.query("next") }));

  app.get("/", (c) => render(c, (view) => overviewPage(manager, view)));
  app.get("/nodes", (c) => render(c, (view) => nodesPage(manager, view)));
  app.get("/nodes/:id", (c) => render(c, (view) => nodePage(manager, view, c.req.param("id"))));
  app.get("/jobs", (c) => render(c, (view) => jobsPage(manager, view)));
  app.get("/jobs/:name", (c) => render(c, (view) => jobPage(manager, view, c.req.param("name"))));
  app.get("/tasks/:id", (c) => render(c, (view) => taskPage(manager, view, c.req.param("id"))));
  app.get("/api", (c) => respond(c, apiPage(apiDocument())));
  app.get("/assets/:name", (c) => {
    const asset = assetsByName.get(c.req.param("name"));
    if (!asset) return c.notFound();
    // The URL carries a hash of the content (assets.ts), so the response may be cached for good.
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=31536000, immutable" });
  });

  // A mistyped address gets a page with the way back (a mounted app's notFound handler is not used).
  app.get("*", (c) => respond(c, errorPage("Not found", `There is no page at ${c.req.path}.`), 404));
  // A job that was purged or a task id that does not exist: the same, and a refreshing page shows it.
  app.onError((err, c) => {
    if (err instanceof NotFoundError) return respond(c, errorPage("Not found", err.message), 404);
    if (err instanceof BadRequestError) return respond(c, errorPage("Bad address", err.message), 400);
    log.error("dashboard page failed", { path: c.req.path, error: err.message, stack: err.stack });
    return respond(c, errorPage("Something went wrong", "The page could not be rendered; the manager's log says why."), 500);
  });

  return app;
}

/** The whole page, or only its `#live` region when the browser script refreshes it (`?fragment=1`). */
function respond(c: Context, page: Page, status: 200 | 400 | 404 | 500 = 200) {
  return c.html(c.req.query("fragment") === undefined ? <Layout {...page} /> : <>{page.live}</>, status);
}

function errorPage(heading: string, text: string): Page {
  return {
    title: heading,
    live: (
      <>
        <h1>{heading}</h1>
        <p>{text}</p>
        <p>
          <a href={paths.overview}>Back to the overview</a>
        </p>
      </>
    ),
  };
}
