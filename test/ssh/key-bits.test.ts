// Key sizes and type names as `ssh-keygen -l` prints them, for keys scan's lines.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { fingerprint, keyBits, keyTypeLabel } from '../../src/ssh/known-hosts.ts';

for (const name of ['cas01-ed25519', 'cas01-ecdsa', 'cas01-rsa']) {
  test(`${name}: bits, fingerprint and type as ssh-keygen -lf prints them`, (t) => {
    const path = `test/fixtures/ssh/${name}.pub`;
    const blob = Buffer.from(readFileSync(path, 'utf8').split(' ')[1]!, 'base64');
    const line = execFileSync('ssh-keygen', ['-lf', path], { encoding: 'utf8' }).trim();
    const [bits, print] = line.split(' ');
    t.is(`${keyBits(blob)} ${fingerprint(blob)} (${keyTypeLabel(blob)})`, `${bits} ${print} ${line.slice(line.lastIndexOf('('))}`);
  });
}
