import { defineConfig } from 'prisma/config';

// Prisma 7 reads the connection from here, not from schema.prisma. `prisma generate` does not need one,
// so the datasource is declared only when DATABASE_URL is set (CI and a bare laptop generate without it).
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  ...(process.env['DATABASE_URL'] ? { datasource: { url: process.env['DATABASE_URL'] } } : {}),
});
