import type { z } from 'zod';
import type { ProblemList } from './config-problem.js';

/** Reports every issue zod found (not only the first), at its key path below `prefix`. */
export function reportIssues(error: z.ZodError, problems: ProblemList, prefix: readonly PropertyKey[] = []): void {
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.add([...path, key], issue.message);
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && message.endsWith('received undefined')) message = 'is required';
    else if (issue.code === 'invalid_type') message = message.replace(/^Invalid input: /, '');
    problems.add(path, message);
  }
}
