import { type Context, Hono } from "hono";
import { BadRequestError } from "../lib/errors.ts";
import type { ControlPlane } from "../manager/control-plane.ts";
import { MAX_SECRET_BYTES, SECRET_NAME, SECRET_NAME_RULE } from "../model/secret.ts";
import { pageParams } from "./request.ts";

function secretName(c: Context): string {
  const name = c.req.param("name") ?? "";
  if (!SECRET_NAME.test(name)) throw new BadRequestError(`"${name}" is not a secret name: ${SECRET_NAME_RULE}`);
  return name;
}

/**
 * `/v1/secrets`: admins put (the request body is the value, as bytes) and remove secrets; readers
 * list their names, versions and users. No answer of these routes carries a value.
 */
export function secretRoutes(manager: ControlPlane): Hono {
  const app = new Hono();
  app.get("/", (c) => {
    const { items, next } = manager.listSecrets(pageParams(c));
    return c.json({ secrets: items, next });
  });
  app.get("/:name", (c) => c.json(manager.getSecret(secretName(c))));
  app.put("/:name", async (c) => {
    const name = secretName(c);
    const value = new Uint8Array(await c.req.arrayBuffer());
    if (value.length === 0) throw new BadRequestError(`the request body is the value of secret ${name}, and it is empty`);
    if (value.length > MAX_SECRET_BYTES) throw new BadRequestError(`a secret's value is at most ${MAX_SECRET_BYTES} bytes; this one is ${value.length}`);
    const result = await manager.putSecret(name, value);
    return c.json(result, result.created ? 201 : 200);
  });
  app.delete("/:name", (c) => c.json(manager.removeSecret(secretName(c))));
  return app;
}
