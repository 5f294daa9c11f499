// ESM consumer: the public API loads with plain node.
const core = await import('@prisma-evolve/core');
const softDelete = await import('@prisma-evolve/soft-delete');
const cli = await import('@prisma-evolve/cli');
const testing = await import('@prisma-evolve/testing');
for (const [name, fn] of [['definePlan', core.definePlan], ['backfill', core.backfill], ['softDelete', softDelete.softDelete], ['loadPlan', cli.loadPlan], ['createTestDatabase', testing.createTestDatabase]]) {
  if (typeof fn !== 'function') throw new Error(`${name} is not exported`);
}
console.log(JSON.stringify({ esm: Object.keys(core).length }));
