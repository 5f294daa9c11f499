/**
 * `pnpm bench soft-delete`: the same query mix (findMany with nested include, findUnique, count, update of a
 * live post, delete) through a bare Prisma 7 client, through our soft-delete extension (`softDelete`, and
 * `softDeleteQueries` without the model methods), through a query extension that passes every query through
 * (Prisma's own price of an extension), and through
 * prisma-extension-soft-delete (the peer), on one schema and data set, in alternating rounds.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { diffEmptyToSchema } from '@prisma-evolve/core';
import { softDelete, softDeleteQueries } from '@prisma-evolve/soft-delete';
import { PrismaClient } from '../../packages/soft-delete/test-schema/generated/client/client.js';
import { evolveMeta } from '../../packages/soft-delete/test-schema/generated/evolve-meta.js';
import { exec, timed } from './bench-support.js';

const schema = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'soft-delete', 'test-schema', 'schema.prisma');

/** Options of the soft-delete benchmark. */
export interface SoftDeleteBenchOptions {
  readonly url: string;
  /** Query-mix cycles per client (5 operations each). */
  readonly cycles: number;
}

async function seed(url: string): Promise<void> {
  await exec(url, await diffEmptyToSchema(url, schema));
  await exec(url, `insert into "User" (email, name) select 'u' || g || '@x.io', 'User ' || g from generate_series(1, 200) g`);
  await exec(url, `insert into "Post" (title, "authorId", "deletedAt") select 'post ' || g, 1 + g % 200, case when g % 5 = 0 then now() end from generate_series(1, 1000) g`);
  await exec(url, `insert into "Comment" (body, "postId", "authorId", "deletedAt") select 'c' || g, 1 + g % 1000, 1 + g % 200, case when g % 7 = 0 then now() end from generate_series(1, 3000) g`);
  await exec(url, `insert into "Post" (title, "authorId") select 'victim ' || g, 1 + g % 200 from generate_series(1, 20000) g`);
  await exec(url, 'analyze');
}

type Client = {
  user: { findMany(a: unknown): Promise<unknown>; findUnique(a: unknown): Promise<unknown> };
  post: { count(a?: unknown): Promise<number>; update(a: unknown): Promise<unknown>; delete(a: unknown): Promise<unknown> };
};

async function cycle(client: Client, i: number, victims: number[]): Promise<void> {
  const user = 1 + (i % 200);
  await client.user.findMany({ where: { id: { gte: user, lt: user + 10 } }, include: { posts: { include: { comments: true } } } });
  await client.user.findUnique({ where: { id: user } });
  await client.post.count({ where: { authorId: user } });
  // A live post (every fifth is soft-deleted): through the extension an update of a deleted one is "not found"
  // (P2025) by design, which would time Prisma's error path, not the extension.
  const post = 1 + ((i * 7) % 800);
  await client.post.update({ where: { id: post % 5 === 0 ? post + 1 : post }, data: { title: `updated ${i}` } });
  const victim = victims.pop();
  if (victim !== undefined) await client.post.delete({ where: { id: victim } });
}

/** Runs the benchmark; operations per second for each client. */
export async function runSoftDeleteBench(options: SoftDeleteBenchOptions): Promise<Record<string, unknown>> {
  await seed(options.url);
  const { rows } = await exec(options.url, `select id from "Post" where title like 'victim %' order by id`);
  const ids = rows.map((row) => Number(row['id']));
  const bareVictims = ids.slice(0, options.cycles);
  const toolkitVictims = ids.slice(options.cycles, options.cycles * 2);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: options.url }) });
  const toolkit = base.$extends(softDelete({ meta: evolveMeta, models: { User: { field: 'deletedAt' }, Post: { field: 'deletedAt' }, Comment: { field: 'deletedAt' } } }));
  // Prisma's own price of a query extension: one that passes every query through unchanged (hard deletes included).
  const passThrough = base.$extends({ query: { $allModels: { $allOperations: ({ args, query }) => query(args) } } });
  const emptyVictims = ids.slice(options.cycles * 2, options.cycles * 3);
  // The same rewriting without the model methods (restore, findDeleted, …), whose delegate wrapping Prisma charges per query.
  const lean = base.$extends(softDeleteQueries({ meta: evolveMeta, models: { User: { field: 'deletedAt' }, Post: { field: 'deletedAt' }, Comment: { field: 'deletedAt' } } }));
  const leanVictims = ids.slice(options.cycles * 3, options.cycles * 4);
  try {
    // Warm all up, then alternate in ten rounds so drift (other load on the machine) hits each equally.
    for (let i = 0; i < 20; i += 1) {
      await cycle(base as unknown as Client, i, []);
      await cycle(toolkit as unknown as Client, i, []);
      await cycle(passThrough as unknown as Client, i, []);
      await cycle(lean as unknown as Client, i, []);
    }
    let bareSeconds = 0;
    let toolkitSeconds = 0;
    let emptySeconds = 0;
    let leanSeconds = 0;
    const rounds = 10;
    const size = Math.ceil(options.cycles / rounds);
    for (let round = 0; round < rounds; round += 1) {
      const from = round * size;
      const to = Math.min(options.cycles, from + size);
      bareSeconds += (await timed(async () => { for (let i = from; i < to; i += 1) await cycle(base as unknown as Client, i, bareVictims); })).seconds;
      toolkitSeconds += (await timed(async () => { for (let i = from; i < to; i += 1) await cycle(toolkit as unknown as Client, i, toolkitVictims); })).seconds;
      emptySeconds += (await timed(async () => { for (let i = from; i < to; i += 1) await cycle(passThrough as unknown as Client, i, emptyVictims); })).seconds;
      leanSeconds += (await timed(async () => { for (let i = from; i < to; i += 1) await cycle(lean as unknown as Client, i, leanVictims); })).seconds;
    }
    const peer = await import('prisma-extension-soft-delete').then(
      () => ({ opsPerS: null, error: 'loaded (unexpected on Prisma 7): run it by hand' }),
      (error: unknown) => ({ opsPerS: null, error: `cannot load on Prisma 7's prisma-client generator: ${error instanceof Error ? error.message.split('\n')[0] : String(error)} (its issue #41)` }),
    );
    const ops = options.cycles * 5;
    const bare = Math.round(ops / bareSeconds);
    const ours = Math.round(ops / toolkitSeconds);
    return {
      benchmark: 'soft-delete',
      cycles: options.cycles,
      operations_per_cycle: 5,
      bare_ops_per_s: bare,
      toolkit_ops_per_s: ours,
      peer_ops_per_s: peer.opsPerS,
      peer_error: peer.error,
      toolkit_vs_bare: Math.round((ours / bare) * 100) / 100,
      pass_through_extension_ops_per_s: Math.round(ops / emptySeconds),
      pass_through_vs_bare: Math.round((ops / emptySeconds / bare) * 100) / 100,
      toolkit_queries_only_ops_per_s: Math.round(ops / leanSeconds),
      toolkit_queries_only_vs_bare: Math.round((ops / leanSeconds / bare) * 100) / 100,
    };
  } finally {
    await base.$disconnect();
  }
}
