/** One problem in a job file, with the path of the field it is about (`tasks[0].resources.memory`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export class JobValidationError extends Error {
  /** `what`: the kind of file the paths are in ("compose file"; default "job"). */
  constructor(
    readonly issues: FieldIssue[],
    what = "job",
  ) {
    super(`invalid ${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`);
  }
}
