/**
 * The action's pre step (at the start of the job): fails the job before any other step runs
 * when the inputs are wrong or the job lacks `permissions: id-token: write`.
 */
import { errorMessage } from '../../../src/common/errors.js';
import { checkIdTokenPermission, readInputs } from './lib/inputs.js';
import { errorCommand } from './lib/workflow-commands.js';

try {
  readInputs(process.env);
  checkIdTokenPermission(process.env);
} catch (err) {
  process.stdout.write(`${errorCommand(`jitgate: ${errorMessage(err)}`)}\n`);
  process.exitCode = 1;
}
