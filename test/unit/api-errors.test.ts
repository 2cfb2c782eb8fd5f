import { expect, test } from "bun:test";
import { Hono } from "hono";
import { errorHandler } from "../../src/api/errors.ts";
import { BusyError, StoreReloadingError, UnavailableError } from "../../src/lib/errors.ts";
import { createLogger } from "../../src/lib/logger.ts";

async function answerTo(err: Error): Promise<{ status: number; retryAfter: string | null; code: string; message: string }> {
  const app = new Hono();
  app.onError(errorHandler(createLogger("test", "error")));
  app.get("/", () => {
    throw err;
  });
  const response = await app.request("/");
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, retryAfter: response.headers.get("Retry-After"), ...error };
}

test("a busy manager and a reloading one answer 503 with Retry-After, so the same request can go again; other unavailability has none", async () => {
  expect(await answerTo(new BusyError("the manager has 9000 task reports waiting"))).toEqual({ status: 503, retryAfter: "1", code: "busy", message: "the manager has 9000 task reports waiting" });
  expect(await answerTo(new StoreReloadingError("reading etcd again"))).toMatchObject({ status: 503, retryAfter: "1", code: "reloading" });
  expect(await answerTo(new UnavailableError("etcd has no quorum"))).toMatchObject({ status: 503, retryAfter: null, code: "unavailable" });
});
