#!/usr/bin/env node
// Prints the closing "N passed, N failed" line from vitest's own JSON report.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`no vitest report at ${file}: ${err.message}`);
  process.exit(1);
}
// A file whose setup failed (a beforeAll) reports its tests as skipped, not failed; each such
// file counts as one failure so the line never reads green when vitest's own summary does not.
const brokenFiles = report.testResults.filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'),
).length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed${skipped ? `, ${skipped} skipped` : ''}`);
