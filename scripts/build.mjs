// npm run build (also run by `npm ci`, `npm install` and `npm pack` through "prepare"): compiles
// src/ and playbooks/ to dist/ so the CLI starts without compiling TypeScript on every run (about
// half its start-up CPU), with declaration files for the published authoring API, copies the lab's
// non-TypeScript assets beside their modules, and stamps the build. In a clone bin/casfleet.js uses
// dist/ only while the stamp is newer than every source file; an installed package has only dist/.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
// The JavaScript of everything, and declarations only for what src/index.ts exports (the CLI's
// internals are no API): two compiler runs, side by side.
const tsc = async (project) => {
  try {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, project)]);
  } catch (error) {
    process.stderr.write(`${error.stdout}${error.stderr}`);
    throw new Error(`tsc -p ${project} failed`);
  }
};
await Promise.all([tsc('tsconfig.build.json'), tsc('tsconfig.types.json')]);
for (const file of readdirSync(join(root, 'src/lab'))) {
  if (/\.(py|sh)$/.test(file)) copyFileSync(join(root, 'src/lab', file), join(dist, 'src/lab', file));
}
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, '.build-stamp'), `${new Date().toISOString()}\n`);
