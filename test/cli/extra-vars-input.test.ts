import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadExtraVars } from '../../src/cli/extra-vars-input.ts';
import { TrustError } from '../../src/errors.ts';

test('-e @file reads vars from a file you own; later arguments win', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-evars-'));
  writeFileSync(join(dir, 'vars.yml'), 'pairing: true\nproxy: true\n');
  const extra = await loadExtraVars(['@vars.yml', 'proxy=false'], dir);
  t.deepEqual(extra.vars, { pairing: true, proxy: false });
});

test('-e @file refuses a vars file others can write to', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-evars-'));
  const file = join(dir, 'vars.yml');
  writeFileSync(file, 'hardwareVpnSubnets: 0.0.0.0/0\n');
  chmodSync(file, 0o666);
  await t.throwsAsync(loadExtraVars([`@${file}`], dir), {
    instanceOf: TrustError,
    message: new RegExp(`^refusing to use vars file ${file}: it is writable by others \\(mode 0666\\)`),
  });
});
