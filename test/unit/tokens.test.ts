import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapTokens } from "../../src/manager/bootstrap-tokens.ts";
import { Tokens } from "../../src/manager/tokens.ts";
import { openStore } from "../../src/store/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "cube-tokens-"));
  dirs.push(dir);
  const store = openStore(join(dir, "cube.db"));
  return { dir, store, tokens: new Tokens(store) };
}

describe("verifying", () => {
  test("only the exact secret of a live token verifies; a store keeps no secret", () => {
    const { store, tokens } = setup();
    const { token, secret } = tokens.create("submit", "ci");
    expect(tokens.verify(secret)).toEqual({ role: "submit" });
    for (const wrong of ["", secret.toUpperCase(), `${secret}x`, secret.slice(0, -1), ` ${secret}`, secret.replace("cube_", "cubew_")]) expect(tokens.verify(wrong)).toBeNull();
    expect(JSON.stringify(store.getToken(token.id))).not.toContain(secret.slice(18));
    tokens.revoke(token.id);
    expect(tokens.verify(secret)).toBeNull();
    store.close();
  });

  test("a worker credential names its node; its last use is recorded", () => {
    const { store, tokens } = setup();
    const { token, secret } = tokens.create("worker", "node n1", "n1");
    expect(secret).toStartWith("cubew_");
    expect(tokens.verify(secret)).toEqual({ role: "worker", nodeId: "n1" });
    expect(store.getToken(token.id)?.token.lastUsedAt).not.toBeNull();
    store.close();
  });
});

describe("the first start", () => {
  test("makes a management and a join token, kept mode 0600; a later start reuses them without making new ones", () => {
    const { dir, store, tokens } = setup();
    const first = bootstrapTokens(tokens, dir);
    expect(first.management?.created).toBe(true);
    expect(first.join.created).toBe(true);
    expect(tokens.verify(first.management?.secret ?? "")).toEqual({ role: "admin" });
    expect(tokens.verify(first.join.secret)).toEqual({ role: "join" });
    for (const file of ["management-token", "join-token"]) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "join-token"), "utf8").trim()).toBe(first.join.secret);
    const again = bootstrapTokens(tokens, dir);
    expect(again).toEqual({ management: { secret: first.management?.secret as string, created: false }, join: { secret: first.join.secret, created: false } });
    expect(tokens.list().length).toBe(2);
    store.close();
  });

  test("with every admin token revoked, the next start makes one; a stale join-token file gets a new join token", () => {
    const { dir, store, tokens } = setup();
    bootstrapTokens(tokens, dir);
    for (const t of tokens.list()) tokens.revoke(t.id);
    writeFileSync(join(dir, "join-token"), "garbage\n");
    const next = bootstrapTokens(tokens, dir);
    expect(next.management?.created).toBe(true);
    expect(next.join.created).toBe(true);
    expect(tokens.verify(next.join.secret)).toEqual({ role: "join" });
    store.close();
  });

  test("an admin token whose secret is not in the data dir is not replaced (it was shown once)", () => {
    const { dir, store, tokens } = setup();
    tokens.create("admin", "ops");
    expect(bootstrapTokens(tokens, dir).management).toBeNull();
    store.close();
  });
});
