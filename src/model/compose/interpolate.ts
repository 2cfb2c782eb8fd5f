import { type FieldIssue, JobValidationError } from "../job-validation-error.ts";

/** `$$`, `$NAME`, `${NAME}` and `${NAME<op>word}` with op one of `:-` `-` `:?` `?` `:+` `+`. */
const VARIABLE = /\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\})/g;

export interface Interpolated {
  value: unknown;
  /** Variables used without a value (they became empty strings), for one warning. */
  unset: string[];
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/**
 * Compose's variable interpolation over every string value of a parsed compose file (keys are left as
 * they are): `${VAR}` and `$VAR` (unset: empty, and named in `unset`), `${VAR:-default}` (unset or
 * empty), `${VAR-default}` (unset), `${VAR:?error}` / `${VAR?error}` (a JobValidationError with the
 * field's path), `${VAR:+other}` / `${VAR+other}`, and `$$` for a literal `$`.
 * @example interpolate({ image: "pg:${TAG:-16}" }, {}).value // { image: "pg:16" }
 */
export function interpolate(doc: unknown, env: Readonly<Record<string, string | undefined>>): Interpolated {
  const unset = new Set<string>();
  const issues: FieldIssue[] = [];
  const text = (s: string, path: (string | number)[]): string =>
    s.replace(VARIABLE, (_all, dollar: string | undefined, bare: string | undefined, name: string | undefined, op: string | undefined, word: string | undefined) => {
      if (dollar) return "$";
      const variable = (bare ?? name) as string;
      const value = env[variable];
      const empty = value === undefined || (op?.startsWith(":") === true && value === "");
      const nested = () => text(word ?? "", path);
      switch (op) {
        case ":-":
        case "-":
          return empty ? nested() : (value as string);
        case ":?":
        case "?":
          if (empty) issues.push({ path: formatPath(path), message: `${variable} ${word ? `is required: ${word}` : `is not set${op === ":?" ? " or empty" : ""}`}` });
          return value ?? "";
        case ":+":
        case "+":
          return empty ? "" : nested();
        default:
          if (value === undefined) unset.add(variable);
          return value ?? "";
      }
    });
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === "string") return text(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    return node;
  };
  const value = walk(doc, []);
  if (issues.length > 0) throw new JobValidationError(issues, "compose file");
  return { value, unset: [...unset].sort() };
}
