import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createTestDatabase, tableChecksums } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { backupDatabase, restoreDatabase } from './backup.js';

const db = useTestDatabase();

describe('backup and restore', () => {
  it('dumps with a manifest, restores into an empty database equal to the original, and refuses the unsafe cases', async () => {
    await withClient(db.url, (c) => c.query(`create table "Order" (id int primary key, note text); insert into "Order" select g, 'n' || g from generate_series(1, 500) g; create table "Item" (id serial primary key, "orderId" int references "Order"(id)); insert into "Item" ("orderId") select 1 + g % 500 from generate_series(1, 800) g`));
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-backup-'));
    const file = path.join(dir, 'app.dump');
    const tables: string[] = [];
    const manifest = await backupDatabase({ databaseUrl: db.url, file, onTable: (t) => tables.push(t) });
    expect(manifest).toMatchObject({ file: 'app.dump', tables: 2 });
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(tables.sort()).toEqual(['public.Item', 'public.Order']);
    expect(JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8'))).toEqual(manifest);

    const copy = await createTestDatabase(db.serverUrl, { prefix: 'evolve_restore' });
    try {
      await restoreDatabase({ databaseUrl: copy.url, file });
      expect(await tableChecksums(copy.url)).toEqual(await tableChecksums(db.url));
      // The sequence came along: the next insert takes a fresh id.
      await withClient(copy.url, (c) => c.query(`insert into "Item" ("orderId") values (1)`));
      await expect(restoreDatabase({ databaseUrl: copy.url, file })).rejects.toThrow(/is not empty \(2 tables, \d+ objects\).*--clean/);
      await withClient(copy.url, (c) => c.query(`delete from "Item" where id > 800`));
      await restoreDatabase({ databaseUrl: copy.url, file, clean: true });
      expect(await tableChecksums(copy.url)).toEqual(await tableChecksums(db.url));
      // Prisma's URL parameters (libpq refuses them) are left out of what pg_dump gets.
      const prismaUrl = `${db.url}${db.url.includes('?') ? '&' : '?'}schema=public&connection_limit=5`;
      await backupDatabase({ databaseUrl: prismaUrl, file: path.join(dir, 'prisma-url.dump') });
      // A database holding only a type is not empty.
      const typed = await createTestDatabase(db.serverUrl, { prefix: 'evolve_restore' });
      try {
        await withClient(typed.url, (c) => c.query(`create type mood as enum ('ok')`));
        await expect(restoreDatabase({ databaseUrl: typed.url, file })).rejects.toThrow(/is not empty \(0 tables, 1 objects\)/);
      } finally {
        await typed.drop();
      }
      const bytes = readFileSync(file);
      writeFileSync(file, Buffer.concat([bytes.subarray(0, bytes.length - 10), Buffer.from('tampered!!')]));
      await expect(restoreDatabase({ databaseUrl: copy.url, file, clean: true })).rejects.toThrow(/does not match its manifest/);
    } finally {
      await copy.drop();
    }
  });
});
