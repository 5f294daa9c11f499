import { describe, expect, it } from '@jest/globals';
import { PrismaPg } from '@prisma/adapter-pg';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { PrismaClient } from '../test-schema/generated/client/client.js';

const db = useTestDatabase();

/**
 * Backs the "peer" column of docs/soft-delete.md: prisma-extension-soft-delete 2.0.1 (a dev dependency)
 * run on the same Prisma 7 client as ours. If a release starts working here, this test fails and the
 * table must be redone with real comparisons.
 */
describe('prisma-extension-soft-delete on Prisma 7 (the peer)', () => {
  it('cannot even be loaded with the prisma-client generator: it requires the runtime DMMF of @prisma/client (its issue #41)', async () => {
    const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    try {
      const failure = await import('prisma-extension-soft-delete').then(
        (peer) => {
          client.$extends(peer.createSoftDeleteExtension({ models: { User: true } as never, defaultConfig: { field: 'deletedAt', createValue: (deleted: boolean) => (deleted ? new Date() : null) } }));
          return undefined;
        },
        (error: unknown) => error,
      );
      expect(String(failure)).toMatch(/Cannot find module '\.prisma\/client\/default'/);
    } finally {
      await client.$disconnect();
    }
  });
});
