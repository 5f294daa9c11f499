import { defineConfig, env } from 'prisma/config';

// Not Prisma's default paths, so the test proves prisma-evolve reads them from here.
export default defineConfig({
  schema: 'db/schema.prisma',
  migrations: { path: 'db/migrations' },
  datasource: { url: env('DATABASE_URL') },
});
