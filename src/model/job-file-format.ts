/** The two notations of a job file; both carry the same schema. */
export type JobFileFormat = "yaml" | "json";

/** What is known of a job file besides its text; either may be absent (standard input, a bare request). */
export interface JobFileSource {
  /** The file's name or path. */
  name?: string;
  /** The Content-Type header it was sent with. */
  contentType?: string;
}

const JSON_TYPE = /^(application|text)\/([\w.-]+\+)?json\b/i;
const YAML_TYPE = /^(application|text)\/([\w.-]+\+)?(x-)?yaml\b/i;
const JSON_NAME = /\.json$/i;
const YAML_NAME = /\.ya?ml$/i;
// JSON has no comments, so a file that opens with one (or with anything but `{` or `[`) is YAML.
const JSON_TEXT = /^\s*[{[]/;

function formatOfContentType(contentType: string | undefined): JobFileFormat | null {
  const type = contentType?.trim() ?? "";
  return JSON_TYPE.test(type) ? "json" : YAML_TYPE.test(type) ? "yaml" : null;
}

function formatOfName(name: string | undefined): JobFileFormat | null {
  if (name === undefined) return null;
  return JSON_NAME.test(name) ? "json" : YAML_NAME.test(name) ? "yaml" : null;
}

/**
 * A job file's format: what its content type says, else what its name's extension says, else what
 * its text looks like. The text decides last because YAML also reads JSON; naming JSON only gives
 * JSON's clearer error messages.
 * @example jobFileFormat("name: web\n", { name: "-" }) // "yaml"
 * @example jobFileFormat("{}", { contentType: "application/yaml" }) // "yaml"
 */
export function jobFileFormat(text: string, source: JobFileSource = {}): JobFileFormat {
  return formatOfContentType(source.contentType) ?? formatOfName(source.name) ?? (JSON_TEXT.test(text) ? "json" : "yaml");
}
