// casfleet's own package.json, found from this module in both layouts: src/package-info.ts (a
// clone, run through tsx) and dist/src/package-info.js (compiled; the only layout of an installed
// package). dist/ holds no package.json of its own: one there would become the package scope of the
// compiled playbooks and break their `import … from 'casfleet'` self-reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moduleExtension } from './module-file.ts';

/** The package's root directory (holds package.json, bin/, templates/). */
export const PACKAGE_ROOT = fileURLToPath(new URL(moduleExtension(import.meta.url) === '.js' ? '../..' : '..', import.meta.url));

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

export const packageInfo = (): PackageInfo => JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as PackageInfo;
