import { Hono } from "hono";
import type { Tokens } from "../manager/tokens.ts";
import { readJson } from "./request.ts";
import { parseNewToken } from "./wire-schemas.ts";

/** `/v1/tokens`: admins create (the secret is in this one answer only), list and revoke tokens. */
export function tokenRoutes(tokens: Tokens): Hono {
  const app = new Hono();
  app.get("/", (c) => c.json({ tokens: tokens.list() }));
  app.post("/", async (c) => {
    const { role, name } = parseNewToken(await readJson(c));
    return c.json(tokens.create(role, name), 201);
  });
  app.delete("/:id", (c) => c.json(tokens.revoke(c.req.param("id"))));
  return app;
}
