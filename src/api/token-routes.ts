import { Hono } from "hono";
import type { ControlPlane } from "../manager/control-plane.ts";
import { readJson } from "./request.ts";
import { parseNewToken } from "./wire-schemas.ts";

/** `/v1/tokens`: admins create (the secret is in this one answer only), list and revoke tokens. */
export function tokenRoutes(manager: ControlPlane): Hono {
  const app = new Hono();
  app.get("/", (c) => c.json({ tokens: manager.listTokens() }));
  app.post("/", async (c) => {
    const { role, name } = parseNewToken(await readJson(c));
    return c.json(manager.createToken(role, name), 201);
  });
  app.delete("/:id", (c) => c.json(manager.revokeToken(c.req.param("id"))));
  return app;
}
