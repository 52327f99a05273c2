// A gzip-compressed ustar archive built in memory: the support bundle is a handful of small text
// files, so neither a temp directory nor a `tar` process is needed. Format: POSIX.1-1988 ustar
// (512-byte header per file, content padded to 512 bytes, two zero blocks at the end).
import { gzipSync } from 'node:zlib';

export interface ArchiveFile {
  /** Path inside the archive (at most 100 bytes, no leading /). */
  readonly name: string;
  readonly content: string | Buffer;
  readonly mode?: number;
}

const BLOCK = 512;

const writeField = (header: Buffer, offset: number, length: number, text: string): void => {
  header.write(text, offset, Math.min(length, Buffer.byteLength(text)), 'utf8');
};

const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;

const headerFor = (name: string, size: number, mode: number, mtime: number): Buffer => {
  if (Buffer.byteLength(name) > 100 || name.startsWith('/')) throw new RangeError(`archive entry name too long or absolute: ${name}`);
  const header = Buffer.alloc(BLOCK);
  writeField(header, 0, 100, name);
  writeField(header, 100, 8, octal(mode, 8));
  writeField(header, 108, 8, octal(0, 8));
  writeField(header, 116, 8, octal(0, 8));
  writeField(header, 124, 12, octal(size, 12));
  writeField(header, 136, 12, octal(mtime, 12));
  header.fill(' ', 148, 156); // the checksum field counts as spaces while summing
  header.write('0', 156); // regular file
  writeField(header, 257, 6, 'ustar\0');
  writeField(header, 263, 2, '00');
  writeField(header, 265, 32, 'root');
  writeField(header, 297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  writeField(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
};

/** The files as a .tar.gz, every entry dated `mtime` (seconds since the epoch). */
export const tarGz = (files: readonly ArchiveFile[], mtime: number): Buffer => {
  const parts: Buffer[] = [];
  for (const file of files) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    parts.push(headerFor(file.name, content.length, file.mode ?? 0o644, Math.floor(mtime)), content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
};
