import css from "./assets/app.css" with { type: "text" };
import script from "./assets/dashboard.js" with { type: "text" };

/** The stylesheet and browser script, embedded in the binary by the text imports above. */
export interface Asset {
  name: string;
  body: string;
  type: string;
  /** Carries a hash of the content, so browsers may cache it for good: a new build changes the URL. */
  url: string;
}

function asset(name: string, body: string, type: string): Asset {
  return { name, body, type, url: `/ui/assets/${name}?v=${Bun.hash(body).toString(36)}` };
}

export const stylesheet = asset("app.css", css, "text/css; charset=utf-8");
export const browserScript = asset("dashboard.js", script, "text/javascript; charset=utf-8");
export const assetsByName = new Map([stylesheet, browserScript].map((a) => [a.name, a]));
