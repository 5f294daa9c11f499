import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes `content` to `file` so that a reader (or a process resumed after a crash) sees either the old
 * file or the whole new one, never a part: the text goes to a temporary file beside it, then replaces it
 * with one rename (atomic on POSIX filesystems).
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}
