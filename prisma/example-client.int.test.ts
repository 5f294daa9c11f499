import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrismaPg } from '@prisma/adapter-pg';
import { prismaMigrationsTemplate } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { seedLegacyDatabase } from '../scripts/legacy/seed-legacy-database.js';
import { Prisma, PrismaClient } from './generated/client/client.js';

const migrations = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const db = useTestDatabase({ template: prismaMigrationsTemplate(migrations, 'scholarly') });
let prisma: PrismaClient;

beforeAll(async () => {
  await seedLegacyDatabase({ databaseUrl: db.url, scale: 0.2, seed: 5 });
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
});
afterAll(async () => {
  await prisma?.$disconnect();
});

describe('generated Prisma 7 client over @prisma/adapter-pg on the legacy data', () => {
  it('reads relations and legacy JSON', async () => {
    const booking = await prisma.booking.findFirst({ orderBy: { id: 'asc' }, include: { tutor: true, learner: true, tenant: true } });
    expect(booking?.id).toBe('bk_0000000');
    expect(booking?.tutor.roles).toContain('tutor');
    expect(booking?.tenant.id).toBe(booking?.tenantId);
    const withAvailability = await prisma.tutorProfile.count({ where: { availability: { not: Prisma.DbNull } } });
    expect(withAvailability).toBeGreaterThan(0);
  });

  it('writes inside an interactive transaction and rolls back with it', async () => {
    const before = await prisma.tenant.count();
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.tenant.create({ data: { id: 'ten_tx', name: 'Tx', slug: 'tx' } });
        expect(await tx.tenant.count()).toBe(before + 1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await prisma.tenant.count()).toBe(before);
  });
});
