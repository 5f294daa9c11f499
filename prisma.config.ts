import { defineConfig, env } from 'prisma/config';

// Prisma 7 reads the connection from here, not from schema.prisma. `prisma generate` does not need it,
// so a placeholder keeps generation working where DATABASE_URL is unset (CI, a bare laptop).
process.env['DATABASE_URL'] ??= 'postgresql://postgres@127.0.0.1:5432/postgres';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  datasource: {
    url: env('DATABASE_URL'),
  },
});
