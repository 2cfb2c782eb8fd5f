import pkg from "../../package.json" with { type: "json" };

/** Replaced by build.ts (`define`) in a compiled binary; absent when run from source. */
declare const CUBE_BUILD_COMMIT: string;
declare const CUBE_BUILD_DATE: string;

/** The build's version; bundled from package.json, so the compiled binary needs no file at run time. */
export const VERSION: string = pkg.version;

/** The git commit the binary was built from, "unknown" when built outside a checkout or run from source. */
export const COMMIT: string = typeof CUBE_BUILD_COMMIT === "string" ? CUBE_BUILD_COMMIT : "unknown";

/** When the binary was built (ISO 8601, UTC), "unknown" when run from source. */
export const BUILD_DATE: string = typeof CUBE_BUILD_DATE === "string" ? CUBE_BUILD_DATE : "unknown";
