// CommonJS consumer: Node >= 20.19 loads our ES modules from require().
const core = require('@prisma-evolve/core');
const { softDelete } = require('@prisma-evolve/soft-delete');
if (typeof core.definePlan !== 'function' || typeof softDelete !== 'function') throw new Error('require() did not load the public API');
console.log(JSON.stringify({ cjs: Object.keys(core).length }));
