// Prints the run's outcome as one plain line ("tests: N passed, N failed, N skipped") after jest's own
// summary, the form CI reads; jest's "Tests: N passed, N total" is not.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped, numTodoTests: todo } = results;
    process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped + todo} skipped\n`);
  }
}
