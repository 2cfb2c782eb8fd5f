import { runCli } from "./cli/run-cli.ts";

void runCli(process.argv.slice(2));
