// A controller killed outright (SIGKILL: no handler runs, pending writes are lost) must leave a run
// record that lists every host whose end it had already handled.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { readRunRecord } from '../../src/run-records/run-store.ts';

const CHILD = fileURLToPath(new URL('../fixtures/run-records/keeper-child.ts', import.meta.url));
const HOSTS = 1000;
const KILL_AFTER = 700;

test('a SIGKILL at host ~700 of 1000 loses no host that had ended', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'casfleet-kill-'));
  const child = spawn(process.execPath, ['--import=tsx', CHILD, String(HOSTS)], {
    env: { ...process.env, CASFLEET_STATE_DIR: state },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffer = '';
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
    if (lines.length > KILL_AFTER) child.kill('SIGKILL');
  });
  t.is(await closed, 'SIGKILL');
  const [id, ...ended] = lines;
  // Usually ~700; a parent slowed down enough to read late may see more, which proves the same.
  t.true(ended.length >= KILL_AFTER, `${ended.length} hosts ended before the kill`);
  const record = await readRunRecord(id!, join(state, 'runs'));
  t.is(record.status, 'running');
  const lost = ended.filter((host) => record.hosts[host]?.state !== 'changed');
  t.deepEqual(lost, []);
  const recorded = Object.values(record.hosts).filter((host) => host.state === 'changed').length;
  // Hosts the kill caught between the keeper and the print are recorded too; none beyond them.
  t.true(recorded >= ended.length && recorded <= ended.length + 1);
});
