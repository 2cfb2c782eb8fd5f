/**
 * Linux network namespaces for partition tests (tests run as root): a namespace joined to the host
 * by a veth pair on a small subnet of its own, whose host end can be taken down and up again.
 * Names carry the creating test process's pid, so leftovers of a crashed run can be told from a
 * namespace another run is using right now.
 */
const PREFIX = "cube-test-";
const SUBNET = "10.213";

async function ip(...args: string[]): Promise<string> {
  const proc = Bun.spawn(["ip", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (exitCode !== 0) throw new Error(`ip ${args.join(" ")} failed (exit ${exitCode}): ${stderr.trim()} (partition tests need root and iproute2)`);
  return stdout;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const namespaceName = (octet: number) => `${PREFIX}${process.pid}-${octet}`;
const hostLinkName = (octet: number) => `cube-h${octet}`;

/**
 * Kills what still runs inside the namespace, then deletes it. The host end of the veth is deleted
 * first (taking its peer along): left to the namespace's teardown, it would linger a moment.
 */
async function removeNamespace(name: string, octet: number): Promise<void> {
  const pids = (await ip("netns", "pids", name).catch(() => "")).split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  // Bounded: a killed process whose parent never reaps it stays a zombie, which is harmless here.
  const deadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < deadline) await Bun.sleep(20);
  await ip("link", "del", hostLinkName(octet)).catch(() => undefined);
  await ip("netns", "del", name).catch(() => undefined);
}

/** Deletes the namespaces (and what runs in them) that earlier test runs, now dead, left behind. */
export async function removeLeftoverNamespaces(): Promise<void> {
  const names = (await ip("netns", "list")).split("\n").map((line) => line.split(" ")[0] ?? "").filter((n) => n.startsWith(PREFIX));
  for (const name of names) {
    const [owner, octet] = name.slice(PREFIX.length).split("-").map(Number);
    if (owner !== undefined && octet !== undefined && !isAlive(owner)) await removeNamespace(name, octet);
  }
}

/** A third octet no address or veth of this host uses yet, starting from a random one so concurrent runs rarely meet. */
async function freeOctet(): Promise<number> {
  const used = new Set<number>();
  for (const match of (await ip("-4", "-o", "addr", "show")).matchAll(/inet 10\.213\.(\d+)\./g)) used.add(Number(match[1]));
  for (const match of (await ip("-o", "link", "show")).matchAll(/cube-h(\d+)/g)) used.add(Number(match[1]));
  const start = 1 + Math.floor(Math.random() * 254);
  for (let i = 0; i < 254; i++) {
    const octet = 1 + ((start + i - 1) % 254);
    if (!used.has(octet)) return octet;
  }
  throw new Error(`no free ${SUBNET}.N.0/30 subnet left for a test namespace`);
}

export class NetworkNamespace {
  private constructor(
    private readonly octet: number,
    readonly name: string,
    /** The veth end on the host: down is the partition. */
    readonly hostLink: string,
    /** Where processes inside reach the host (a manager listening on 0.0.0.0, say). */
    readonly hostAddress: string,
    /** Where the host reaches processes inside. */
    readonly innerAddress: string,
  ) {}

  /** A namespace with lo and its veth end up, reachable from the host at `innerAddress`. */
  static async create(): Promise<NetworkNamespace> {
    const octet = await freeOctet();
    const inner = `cube-n${octet}`;
    const ns = new NetworkNamespace(octet, namespaceName(octet), hostLinkName(octet), `${SUBNET}.${octet}.1`, `${SUBNET}.${octet}.2`);
    await ip("netns", "add", ns.name);
    try {
      // Created with its peer already inside, so no crash can leave a veth behind on the host alone.
      await ip("link", "add", ns.hostLink, "type", "veth", "peer", "name", inner, "netns", ns.name);
      await ip("addr", "add", `${ns.hostAddress}/30`, "dev", ns.hostLink);
      await ip("link", "set", ns.hostLink, "up");
      await ip("-n", ns.name, "addr", "add", `${ns.innerAddress}/30`, "dev", inner);
      await ip("-n", ns.name, "link", "set", inner, "up");
      await ip("-n", ns.name, "link", "set", "lo", "up");
    } catch (err) {
      await ns.close();
      throw err;
    }
    return ns;
  }

  /** The command that runs a program inside the namespace. */
  get exec(): string[] {
    return ["ip", "netns", "exec", this.name];
  }

  /**
   * Takes the link down. Open connections (the worker's watch, say) hang with no error, as on a real
   * partition; new ones fail with EHOSTUNREACH once the neighbour lookup gives up (about 3 s).
   */
  async cut(): Promise<void> {
    await ip("link", "set", this.hostLink, "down");
  }

  async heal(): Promise<void> {
    await ip("link", "set", this.hostLink, "up");
  }

  /** Kills whatever still runs inside, deletes the veth pair and the namespace; safe to call twice. */
  close(): Promise<void> {
    return removeNamespace(this.name, this.octet);
  }
}
