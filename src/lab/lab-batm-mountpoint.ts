// /batm must exist on the root fs as a mount point for each host's private /batm. When the machine has
// none, the lab creates an empty one, marked so that whichever lab goes down *last* removes it (the
// creator may go down while other labs still mount over it; rmdir would then detach their /batm).

import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.ts';
import { BATM_MARKER, BATM_MOUNTPOINT } from './lab-layout.ts';

/** Make sure /batm exists; true when this call created it. */
export const ensureBatmMountpoint = (): boolean => {
  if (existsSync(BATM_MOUNTPOINT)) return false;
  try {
    mkdirSync(BATM_MOUNTPOINT, { mode: 0o755 });
  } catch (error) {
    // Another lab coming up at the same moment won the race; it writes the marker.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LabError(`cannot create the ${BATM_MOUNTPOINT} mount point`, { cause: error });
  }
  // Hidden under every host's bind mount, so hosts never see it.
  writeFileSync(join(BATM_MOUNTPOINT, BATM_MARKER), 'created by casfleet lab up; removed by the last lab down\n');
  return true;
};

/**
 * Remove /batm when no lab namespace (`cfl-*`) is left and it holds nothing but our marker.
 * A real CAS /batm (no marker, or any other content) is never touched. Returns true if removed.
 */
export const removeBatmMountpointIfUnused = (remainingNetns: readonly string[]): boolean => {
  if (remainingNetns.some((name) => name.startsWith('cfl-'))) return false;
  let entries: string[];
  try {
    entries = readdirSync(BATM_MOUNTPOINT);
  } catch {
    return false;
  }
  if (entries.length !== 1 || entries[0] !== BATM_MARKER) return false;
  rmSync(join(BATM_MOUNTPOINT, BATM_MARKER));
  try {
    rmdirSync(BATM_MOUNTPOINT);
    return true;
  } catch {
    return false;
  }
};
