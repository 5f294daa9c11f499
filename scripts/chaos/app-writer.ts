/**
 * The application during a chaos run: inserts and updates `Booking` rows through the example's generated
 * Prisma client, as fast as it can with a short pause, and appends every committed write to a log (one JSON
 * line each, written after the write resolved). Stops on SIGTERM, printing `{"writes","errors"}`.
 *
 *   node --import tsx scripts/chaos/app-writer.ts <database-url> <log-file>
 */
import { appendFileSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../prisma/generated/client/client.js';

const [databaseUrl, logFile] = process.argv.slice(2);
if (!databaseUrl || !logFile) throw new Error('usage: app-writer <database-url> <log-file>');
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
let stopping = false;
process.on('SIGTERM', () => (stopping = true));

// Bookings the app copies its tenant, people and subject from, so no new subject code appears.
const templates = await prisma.booking.findMany({ take: 50, orderBy: { id: 'asc' } });
const existing = templates.map((b) => b.id);
let writes = 0;
let errors = 0;
for (let n = 0; !stopping; n += 1) {
  const template = templates[n % templates.length];
  if (!template) break;
  try {
    if (n % 2 === 0) {
      const id = `bk_app_${process.pid}_${n}`;
      const row = await prisma.booking.create({
        data: {
          id,
          tenantId: template.tenantId,
          learnerId: template.learnerId,
          tutorId: template.tutorId,
          subjectId: template.subjectId,
          subjectName: template.subjectName,
          scheduledStart: template.scheduledStart,
          scheduledEnd: template.scheduledEnd,
          status: 'confirmed',
          priceCents: n,
        },
      });
      appendFileSync(logFile, `${JSON.stringify({ op: 'insert', id: row.id, status: row.status, priceCents: row.priceCents })}\n`);
    } else {
      const id = existing[(n * 7) % existing.length] as string;
      const row = await prisma.booking.update({ where: { id }, data: { status: `app_${n}`, priceCents: n } });
      appendFileSync(logFile, `${JSON.stringify({ op: 'update', id: row.id, status: row.status, priceCents: row.priceCents })}\n`);
    }
    writes += 1;
  } catch (error) {
    errors += 1;
    process.stderr.write(`write ${n} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
await prisma.$disconnect();
process.stdout.write(`${JSON.stringify({ writes, errors })}\n`);
