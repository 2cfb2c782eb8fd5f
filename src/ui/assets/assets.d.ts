/**
 * The dashboard's stylesheet and browser script are imported as text (`with { type: "text" }`) so
 * `bun build --compile` embeds them in the binary; these declarations give those imports their type.
 * The script is plain JavaScript for the browser, so it has to be named here: TypeScript would
 * otherwise look for types of its exports.
 */
declare module "*.css" {
  const text: string;
  export default text;
}

declare module "*/assets/dashboard.js" {
  const text: string;
  export default text;
}
