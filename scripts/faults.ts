// `npm run faults`: runs the fault suite (ava, ava.faults.config.mjs) on private labs, then prints
// one table row per fault and exits non-zero when a fault failed or any host ended inconsistent,
// lost data or did not converge on a re-run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultRow } from '../test/faults/fault-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'casfleet-faults-'));
const rowsFile = join(dir, 'rows.jsonl');
const started = Date.now();
const ava = spawnSync('npx', ['ava', '--config', 'ava.faults.config.mjs', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CASFLEET_FAULT_ROWS: rowsFile },
});
const rows: FaultRow[] = existsSync(rowsFile)
  ? readFileSync(rowsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FaultRow)
  : [];
rmSync(dir, { recursive: true, force: true });
rows.sort((a, b) => a.fault.localeCompare(b.fault) || a.phase.localeCompare(b.phase));

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const header = ['fault', 'phase', 'hosts', 'consistent', 'data lost', 'converged on re-run', 'detection time', 'ended'];
const cells = rows.map((row) => [
  row.fault,
  row.phase,
  String(row.hosts),
  yesNo(row.consistent),
  yesNo(row.dataLost),
  yesNo(row.converged),
  seconds(row.detectionMs),
  row.ending,
]);
const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column]!.length)));
const line = (values: readonly string[]): string => `| ${values.map((value, column) => value.padEnd(widths[column]!)).join(' | ')} |`;
process.stdout.write(`\n${[line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n')}\n`);

const bad = rows.filter((row) => !row.consistent || row.dataLost || !row.converged);
process.stdout.write(
  `\n${rows.length} faults in ${((Date.now() - started) / 60_000).toFixed(1)} min; ${bad.length} inconsistent${ava.status === 0 ? '' : '; the suite itself failed'}\n`,
);
process.exit(bad.length > 0 || ava.status !== 0 || rows.length === 0 ? 1 : 0);
