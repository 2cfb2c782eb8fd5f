/**
 * Builds the single `cube` executable: `bun build.ts` for this machine (dist/cube), or
 * `bun build.ts --target=bun-linux-arm64` (also bun-linux-x64, bun-darwin-arm64, bun-darwin-x64)
 * for another, written to dist/cube-<os>-<arch>.
 */
import { parseArgs } from "node:util";

const TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-darwin-x64", "bun-darwin-arm64"] as const;
type Target = (typeof TARGETS)[number];

const { values } = parseArgs({ options: { target: { type: "string" }, outfile: { type: "string" } } });
const target = values.target as Target | undefined;
if (target !== undefined && !TARGETS.includes(target)) {
  console.error(`build: --target must be one of ${TARGETS.join(", ")}, not "${target}"`);
  process.exit(1);
}
const outfile = values.outfile ?? (target ? `dist/cube-${target.slice("bun-".length)}` : "dist/cube");

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

const started = performance.now();
const result = await Bun.build({
  entrypoints: ["src/main.ts"],
  minify: true,
  sourcemap: "none",
  bytecode: true,
  plugins: [dropUnusedTransports],
  compile: {
    outfile,
    ...(target ? { target } : {}),
    autoloadBunfig: false,
    autoloadDotenv: false,
  },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`build: ${outfile} in ${Math.round(performance.now() - started)} ms`);
