/**
 * Builds the single `cube` executable: `bun build.ts` for this machine (dist/cube), or
 * `bun build.ts --target=bun-linux-arm64` (also bun-linux-x64, bun-darwin-arm64, bun-darwin-x64)
 * for another, written to dist/cube-<os>-<arch>. `bun build.ts --release [--outdir=dist/release]`
 * builds all four with a SHA256SUMS file beside them (`sha256sum -c SHA256SUMS` checks them).
 * Every build carries its version, the git commit it was built from and the build date (`cube version`).
 */
import { basename, join } from "node:path";
import { parseArgs } from "node:util";

const TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-darwin-x64", "bun-darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];

const { values } = parseArgs({ options: { target: { type: "string" }, outfile: { type: "string" }, release: { type: "boolean" }, outdir: { type: "string" } } });
const target = values.target as Target | undefined;
if (target !== undefined && !TARGETS.includes(target)) fail(`--target must be one of ${TARGETS.join(", ")}, not "${target}"`);
if (values.release && (target !== undefined || values.outfile !== undefined)) fail("--release builds every target; it takes --outdir, not --target or --outfile");

/**
 * dockerode loads an SSH client (ssh2) for `ssh://` engines and gRPC for BuildKit sessions at start-up;
 * Cube talks to the engine over its unix socket and never builds images, and the two cost a worker
 * ~45 MB of memory. They are replaced by empty modules in the binary.
 */
const UNUSED_ENGINE_TRANSPORTS = /^(ssh2|@grpc\/grpc-js|@grpc\/proto-loader)$/;
const dropUnusedTransports: import("bun").BunPlugin = {
  name: "drop-unused-docker-transports",
  setup(build) {
    build.onResolve({ filter: UNUSED_ENGINE_TRANSPORTS }, (args) => ({ path: args.path, namespace: "unused" }));
    build.onLoad({ filter: /.*/, namespace: "unused" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

/** The commit of the checkout being built, "unknown" outside one (a source tarball, say). */
function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { stdout: "pipe", stderr: "ignore" });
  const commit = result.success ? result.stdout.toString().trim() : "";
  if (commit === "") return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { stdout: "pipe", stderr: "ignore" });
  return dirty.success && dirty.stdout.toString().trim() !== "" ? `${commit}-dirty` : commit;
}

/** Values src/lib/version.ts reads; the same for every target of one run. */
const buildInfo = { CUBE_BUILD_COMMIT: JSON.stringify(gitCommit()), CUBE_BUILD_DATE: JSON.stringify(new Date().toISOString().replace(/\.\d+Z$/, "Z")) };

async function compile(outfile: string, to?: Target): Promise<void> {
  const started = performance.now();
  const result = await Bun.build({
    // The API's front thread is a Worker, and a Worker's code must be an entry point of its own.
    entrypoints: ["src/main.ts", "src/server/api-front-thread.ts"],
    minify: true,
    sourcemap: "none",
    bytecode: true,
    plugins: [dropUnusedTransports],
    define: buildInfo,
    compile: {
      outfile,
      ...(to ? { target: to } : {}),
      autoloadBunfig: false,
      autoloadDotenv: false,
    },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  console.log(`build: ${outfile} in ${Math.round(performance.now() - started)} ms`);
}

/** `sha256sum`'s format: the hex digest, two spaces, the file's name (relative to the file, so the directory can move). */
async function writeChecksums(dir: string, files: string[]): Promise<void> {
  const lines: string[] = [];
  for (const file of files) {
    const digest = new Bun.CryptoHasher("sha256").update(await Bun.file(file).arrayBuffer()).digest("hex");
    lines.push(`${digest}  ${basename(file)}`);
  }
  await Bun.write(join(dir, "SHA256SUMS"), `${lines.join("\n")}\n`);
  console.log(`build: ${join(dir, "SHA256SUMS")}`);
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

if (values.release) {
  const dir = values.outdir ?? "dist/release";
  const files = TARGETS.map((t) => join(dir, `cube-${t.slice("bun-".length)}`));
  // One after another: each cross-compile holds a whole runtime in memory.
  for (const [i, t] of TARGETS.entries()) await compile(files[i] as string, t);
  await writeChecksums(dir, files);
} else {
  await compile(values.outfile ?? (target ? `dist/cube-${target.slice("bun-".length)}` : "dist/cube"), target);
}
