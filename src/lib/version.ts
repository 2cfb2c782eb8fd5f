import pkg from "../../package.json" with { type: "json" };

/** The build's version; bundled from package.json, so the compiled binary needs no file at run time. */
export const VERSION: string = pkg.version;
