import type { Context, MiddlewareHandler } from "hono";
import { setCookie } from "hono/cookie";
import { html } from "hono/html";
import { stylesheet } from "../ui/assets.ts";
import { TOKEN_COOKIE, type VerifyToken } from "./auth.ts";

function signInPage(c: Context, message: string) {
  const page = html`<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Sign in · Cube</title>
    <link rel="stylesheet" href="${stylesheet.url}" />
  </head>
  <body>
    <main id="sign-in">
      <h1>Sign in to Cube</h1>
      <p>${message}</p>
      <form method="get">
        <label>API token <input name="token" type="password" autocomplete="off" required autofocus /></label>
        <button type="submit">Sign in</button>
      </form>
      <p>The manager printed a management token at its first start (also in its data dir, file <code>management-token</code>); <code>cube dev</code> prints one as <code>CUBE_TOKEN</code>; <code>cube token create --role=read</code> makes a new one.</p>
    </main>
  </body>
</html>`;
  return c.html(page, 401);
}

/**
 * The dashboard's sign-in, for browsers, which cannot send a bearer token when following a link:
 * `?token=` on a dashboard address moves a valid token into an HttpOnly, SameSite=Strict cookie and
 * drops it from the address; a page that would be refused with 401 shows a sign-in form instead.
 * Mount before `authenticate`.
 */
export function browserLogin(verify: VerifyToken): MiddlewareHandler {
  return async (c, next) => {
    const token = c.req.query("token");
    if (token !== undefined) {
      const principal = verify(token);
      if (!principal || principal.role === "join" || principal.role === "worker") return signInPage(c, "That token is not valid (unknown, mistyped or revoked), or it is not a user's token.");
      const url = new URL(c.req.url);
      url.searchParams.delete("token");
      setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/", secure: url.protocol === "https:" });
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    await next();
    // A live-refresh fragment keeps its JSON 401: the dashboard's script asks for a token itself.
    if (c.res.status === 401 && c.req.query("fragment") === undefined) c.res = await signInPage(c, "This Cube manager needs an API token.");
  };
}
