/** The `kontor` command line: the same application functions as the API, for operators and scripts. */
import { buildProgram } from './program.ts';
import { reportFailure } from './run.ts';

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  reportFailure(e);
}
