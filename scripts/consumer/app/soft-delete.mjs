// An API server's use of the soft-delete extension with this app's own generated client.
import { PrismaClient } from '@prisma/client';
import { PrismaPg } from '@prisma/adapter-pg';
import { softDelete } from '@prisma-evolve/soft-delete';
import { evolveMeta } from './db/generated/evolve-meta.mjs';

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) }).$extends(
  softDelete({ meta: evolveMeta, models: { User: { field: 'deletedAt', cascade: ['posts'] }, Post: { field: 'deletedAt' } } }),
);
const user = await prisma.user.create({ data: { email: 'gone@example.com', locale: 'de', posts: { create: [{ title: 'a' }, { title: 'b' }] } } });
await prisma.user.delete({ where: { id: user.id } });
const visible = await prisma.user.findUnique({ where: { id: user.id } });
const raw = await prisma.$queryRawUnsafe('select "deletedAt" is not null as deleted from "User" where id = $1', user.id);
const posts = await prisma.$queryRawUnsafe('select count(*)::int as n from "Post" where "authorId" = $1 and "deletedAt" is not null', user.id);
await prisma.$disconnect();
console.log(JSON.stringify({ visible: visible !== null, rowKept: raw.length === 1 && raw[0].deleted, cascadedPosts: posts[0].n }));
