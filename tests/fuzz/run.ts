/**
 * npm run fuzz -- [--n 20000] [--seed S] [--concurrency C]
 * A long fuzzing run against a fresh gateway (tests/fuzz/fuzzer.ts). Prints a summary line and each finding;
 * exits 1 when there is any finding, an internal error was logged, or the gateway is unhealthy at the end.
 */
import { parseArgs } from 'node:util';
import { describeFinding, fuzzSession } from './session';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { n: { type: 'string', default: '20000' }, seed: { type: 'string', default: '1' }, concurrency: { type: 'string', default: '4' } } });
  const n = Number(values.n);
  const seed = Number(values.seed);
  const started = Date.now();
  const report = await fuzzSession({ seed, n, concurrency: Number(values.concurrency), onProgress: (sent) => process.stderr.write(`  ${sent}/${n}\r`) });
  const byProblem = new Map<string, number>();
  for (const f of report.findings) byProblem.set(f.problem, (byProblem.get(f.problem) ?? 0) + 1);
  for (const f of report.findings.slice(0, 50)) process.stdout.write(`${describeFinding(f)}\n`);
  for (const line of report.errorLogs.slice(0, 20)) process.stdout.write(`logged at error level: ${line}\n`);
  const kinds = [...byProblem].map(([p, c]) => `${c} ${p}`).join(', ');
  process.stdout.write(
    `fuzz: seed ${seed}, ${report.sent} requests in ${((Date.now() - started) / 1000).toFixed(0)} s: ${report.findings.length} findings${kinds ? ` (${kinds})` : ''}, ` +
      `${report.errorLogs.length} internal errors logged, gateway ${report.healthy ? 'healthy' : 'UNHEALTHY'}\n`,
  );
  process.exitCode = report.findings.length === 0 && report.errorLogs.length === 0 && report.healthy ? 0 : 1;
}

main().catch((err) => {
  process.stderr.write(`fuzz failed: ${err.stack ?? err}\n`);
  process.exit(2);
});
