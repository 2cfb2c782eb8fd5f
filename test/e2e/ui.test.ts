/**
 * The dashboard end to end: a real cluster (manager + 3 workers, real Docker), a real browser (Debian's
 * chromium driven by playwright-core), no page reloads between a change and what the page shows.
 * Screenshots of the main pages land in test/artifacts/ for a reviewer to look at.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { LABELS } from "../../src/driver/driver.ts";
import type { JobDetail } from "../../src/model/api-types.ts";
import { containersWithLabel, requireDocker, TEST_IMAGE } from "../support/docker.ts";
import { startLocalCluster, uniqueJobName, type LocalCluster } from "../support/local-cluster.ts";
import { waitFor } from "../support/wait-for.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"];
const ARTIFACTS = resolve(import.meta.dir, "../artifacts");
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let local: LocalCluster;
let browser: BrowserContext;
let profileDir: string;
let page: Page;
const tokenPrompts: string[] = [];
const name = uniqueJobName("ui-web");

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard's end-to-end test needs Debian's chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does)`);
  }
}

async function screenshot(target: Page, file: string): Promise<void> {
  await target.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
}

async function newTab(viewport = DESKTOP): Promise<Page> {
  const tab = await browser.newPage();
  await tab.setViewportSize(viewport);
  // The Stop, Drain and Revert buttons ask for confirmation first; a page that lost its sign-in asks for the token.
  tab.on("dialog", (dialog) => {
    if (dialog.type() === "prompt") tokenPrompts.push(dialog.message());
    void dialog.accept(dialog.type() === "prompt" ? local.cluster.token : undefined);
  });
  return tab;
}

async function openPage(path: string, viewport = DESKTOP): Promise<Page> {
  const opened = await newTab(viewport);
  await opened.goto(`${local.cluster.url}${path}`);
  // The script has connected to the event stream: from here on, the page updates by itself.
  await opened.locator('#live-status[data-state="live"]').waitFor();
  return opened;
}

function apiJob(): Promise<JobDetail> {
  return local.client.getJob(name);
}

beforeAll(async () => {
  requireChromium();
  await requireDocker();
  mkdirSync(ARTIFACTS, { recursive: true });
  local = await startLocalCluster(3);
  profileDir = mkdtempSync(join(tmpdir(), "cube-ui-chromium-"));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: DESKTOP,
  });
  browser.setDefaultTimeout(30_000);
  // Signed in as after opening `/ui?token=…` (src/api/browser-login.ts): the cluster's token in the cookie.
  await browser.addCookies([{ name: "cube_token", value: local.cluster.token, url: local.cluster.url }]);
});

afterAll(async () => {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await local?.close();
});

describe("the web dashboard", () => {
  test("/ asks for the token once, then shows the overview with 3 nodes ready", async () => {
    // A browser that never signed in (the one beforeAll signed in forgets it).
    await browser.clearCookies();
    page = await newTab();
    await page.goto(`${local.cluster.url}/`);
    await page.getByRole("heading", { name: "Sign in to Cube" }).waitFor();
    await screenshot(page, "sign-in-desktop.png");
    await page.getByLabel("API token").fill(local.cluster.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator('#live-status[data-state="live"]').waitFor();
    // The browser keeps the token (in a cookie): no address carries it, and later pages just open.
    expect(new URL(page.url()).pathname).toBe("/ui");
    expect(new URL(page.url()).search).toBe("");
    await expect(page.locator("#nodes-summary").textContent()).resolves.toContain("3 ready");
    for (const node of ["dev-1", "dev-2", "dev-3"]) await page.getByRole("link", { name: node, exact: true }).waitFor();
  });

  test("a submitted job appears without a reload, its tasks running on the nodes the API names", async () => {
    const submitted = await local.client.submitJob(
      JSON.stringify({
        name,
        type: "service",
        tasks: [
          {
            name: "http",
            image: TEST_IMAGE,
            command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
            count: 3,
            resources: { cpu: 0.25, memory: 48, disk: 10 },
            ports: [{ name: "http", container: 8080 }],
          },
        ],
      }),
      "json",
    );
    expect(submitted.created).toBe(true);

    // The overview was opened before the job existed: the event stream brings its link in.
    await page.getByRole("link", { name, exact: true }).click();
    await page.waitForURL(`**/ui/jobs/${name}`);
    await page.locator('#live-status[data-state="live"]').waitFor();
    const rows = page.locator("tr[data-task]");
    await waitFor("3 rows in the job's task table showing running", async () => {
      const states = await rows.locator('[data-field="state"]').allTextContents();
      return states.length === 3 && states.every((s) => s.trim() === "running") ? true : undefined;
    }, 60_000, 250);

    const job = await apiJob();
    const running = job.tasks.filter((t) => t.state === "running");
    expect(running.length).toBe(3);
    for (const task of running) {
      const row = page.locator(`tr[data-task="${task.id}"]`);
      expect((await row.locator('[data-field="state"]').textContent())?.trim()).toBe("running");
      expect((await row.locator('[data-field="node"]').textContent())?.trim()).toBe(task.nodeName as string);
      expect(task.nodeName).toMatch(/^dev-[123]$/);
      // Host ports are links on the host the page was opened with, and they answer.
      const port = task.hostPorts.http as number;
      const link = row.getByRole("link", { name: `http:${port}` });
      expect(await link.getAttribute("href")).toBe(`http://127.0.0.1:${port}/`);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("hello from cube\n");
    }
    await page.getByRole("heading", { name: "Versions" }).waitFor();
    await screenshot(page, "job-desktop.png");
  });

  test("overview and nodes pages, on a desktop and on a phone", async () => {
    const overview = await openPage("/ui");
    await waitFor("the overview to count 3 running tasks", async () => ((await overview.locator("#tasks-summary").textContent())?.includes("3 running") ? true : undefined));
    await screenshot(overview, "overview-desktop.png");
    await overview.close();

    const nodes = await openPage("/ui/nodes");
    // Sparklines fill as the usage history is sampled (every 5 s).
    await nodes.locator("svg.chart-small polyline").first().waitFor();
    await screenshot(nodes, "nodes-desktop.png");
    await nodes.close();

    for (const path of ["/ui", `/ui/jobs/${name}`]) {
      const phone = await openPage(path, PHONE);
      await screenshot(phone, `${path === "/ui" ? "overview" : "job"}-phone.png`);
      // Wide tables scroll inside their own box: the page itself never scrolls sideways.
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      await phone.close();
    }
  });

  test("the API reference, reached from the navigation, shows an operation's roles and body fields", async () => {
    const reference = await openPage("/ui");
    await reference.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API", exact: true }).click();
    await reference.getByRole("heading", { name: "API reference" }).waitFor();
    const submit = reference.locator("#op-postJobs");
    await submit.locator("> summary").click();
    await submit.getByRole("row", { name: /tasks\[\]\.resources\.cpu/ }).waitFor();
    expect(await submit.locator(".role").allTextContents()).toEqual(["submit", "admin"]);
    await screenshot(reference, "api-desktop.png");
    await reference.close();
    const phone = await openPage("/ui/api", PHONE);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await phone.close();
  });

  test("a node page charts its usage, lists its tasks and changes its eligibility", async () => {
    const task = (await apiJob()).tasks[0];
    if (!task?.nodeId) throw new Error("the job has no placed task");
    const node = await openPage(`/ui/nodes/${task.nodeId}`);
    await node.getByRole("heading", { name: `Node ${task.nodeName}` }).waitFor();
    await node.locator("figure svg.chart polyline").first().waitFor();
    expect(await node.locator("figure svg.chart").count()).toBe(2);
    await node.locator(`tr[data-task="${task.id}"]`).waitFor();
    await node.getByRole("button", { name: "Drain" }).waitFor();
    await screenshot(node, "node-desktop.png");

    // Eligibility goes through the API and the page shows the result by itself. The browser forgot
    // its sign-in meanwhile (a revoked token looks the same): the page asks for a token once, and goes on.
    await browser.clearCookies();
    await node.getByRole("button", { name: "Make ineligible" }).click();
    await node.locator("h1 .node-ineligible").waitFor();
    expect((await local.client.listNodes()).find((n) => n.id === task.nodeId)?.eligible).toBe(false);
    await node.getByRole("button", { name: "Make eligible" }).click();
    await node.locator("h1 .node-ineligible").waitFor({ state: "detached" });
    expect((await local.client.listNodes()).find((n) => n.id === task.nodeId)?.eligible).toBe(true);
    expect(tokenPrompts.length).toBe(1);
    await node.close();
  });

  test("a task page shows its history of events and follows its logs", async () => {
    const task = (await apiJob()).tasks[0];
    if (!task) throw new Error("the job has no task");
    const view = await openPage(`/ui/tasks/${task.id}`);
    await view.getByRole("heading", { name: new RegExp(`Task ${task.name}`) }).waitFor();
    const events = view.locator("#task-events tr");
    const detail = await local.client.getTask(task.id);
    expect(await events.count()).toBe(detail.events.length);
    expect(detail.events.length).toBeGreaterThanOrEqual(2);
    expect(await events.allTextContents()).toContainEqual(expect.stringContaining("running"));
    await waitFor("the logs to be followed", async () => ((await view.locator("#logs-status").textContent())?.startsWith("Following") ? true : undefined));
    await screenshot(view, "task-desktop.png");
    await view.close();
  });

  test("Scale on the job page makes a new version with one more task", async () => {
    const count = page.getByRole("spinbutton", { name: "Count" });
    await count.fill("4");
    await page.getByRole("button", { name: "Scale" }).click();
    await page.locator("#flash").getByText(`Scaling ${name}.http`).waitFor();
    await waitFor("4 rows showing running", async () => {
      const states = await page.locator('tr[data-task] [data-field="state"]').allTextContents();
      return states.length === 4 && states.every((s) => s.trim() === "running") ? true : undefined;
    }, 60_000, 250);
    expect((await apiJob()).version).toBe(2);
  });

  test("Revert on the job page brings back version 1's spec as version 3", async () => {
    await page.getByRole("button", { name: "Revert to 1" }).click();
    await page.locator("#flash").getByText(`Reverting ${name} to version 1`).waitFor();
    const job = await waitFor("version 3 with 3 running tasks", async () => {
      const j = await apiJob();
      return j.version === 3 && j.spec.tasks[0]?.count === 3 && j.tasks.filter((t) => t.state === "running").length === 3 ? j : undefined;
    }, 60_000, 250);
    // The page follows: the versions table has the new version, and the running tasks are the API's.
    await page.getByRole("rowheader", { name: "3 (current)" }).waitFor();
    await waitFor("the page to show the API's running tasks", async () => {
      const shown = await page.locator("tr[data-task]").evaluateAll((rows) =>
        rows.filter((r) => r.querySelector('[data-field="state"]')?.textContent?.trim() === "running").map((r) => r.getAttribute("data-task")),
      );
      const running = job.tasks.filter((t) => t.state === "running").map((t) => t.id);
      return shown.length === 3 && running.every((id) => shown.includes(id)) ? true : undefined;
    }, 30_000, 250);
    await screenshot(page, "job-versions-desktop.png");
  });

  test("Stop on the job page (by keyboard) stops the job and the engine's containers are gone", async () => {
    expect((await containersWithLabel(LABELS.job, name)).length).toBeGreaterThan(0);
    const stop = page.getByRole("button", { name: "Stop job" });
    await stop.focus();
    await page.keyboard.press("Enter");
    await page.locator("#flash").getByText(`Job ${name} is stopping`).waitFor();
    await waitFor("no container left with the job's label", async () => ((await containersWithLabel(LABELS.job, name)).length === 0 ? true : undefined), 60_000, 250);
    // The page follows: every task ends up shown as stopped, and the Stop button is gone.
    await waitFor("the page to show every task stopped", async () => {
      const states = await page.locator('tr[data-task] [data-field="state"]').allTextContents();
      return states.length >= 3 && states.every((s) => s.trim() === "stopped") ? true : undefined;
    }, 30_000, 250);
    expect(await stop.count()).toBe(0);
    await screenshot(page, "job-stopped-desktop.png");
  });
});
