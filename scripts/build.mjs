// npm run build (also run by `npm ci` / `npm install` through "prepare"): compiles src/ and
// playbooks/ to dist/ so the CLI starts without compiling TypeScript on every run (about half its
// start-up CPU), copies the lab's non-TypeScript assets beside their modules, and stamps the build.
// bin/casfleet.js uses dist/ only while the stamp is newer than every source file.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const file of readdirSync(join(root, 'src/lab'))) {
  if (/\.(py|sh)$/.test(file)) copyFileSync(join(root, 'src/lab', file), join(dist, 'src/lab', file));
}
copyFileSync(join(root, 'package.json'), join(dist, 'package.json'));
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, '.build-stamp'), `${new Date().toISOString()}\n`);
