/** One problem in a job file, with the path of the field it is about (`tasks[0].resources.memory`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export class JobValidationError extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid job: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ")}`);
  }
}
