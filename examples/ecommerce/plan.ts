/**
 * The e-commerce evolution of issue 14, written as a user would write it: one phase per change, the
 * contract of all of them in a last phase once the old code is gone.
 */
import { changeEnum, contractStep, definePhase, definePlan, dropIndex, renameColumn, renameTable, schemaStep, step } from '@prisma-evolve/core';

const customerEmail = step(renameColumn, { table: 'Customer', from: 'customer_email', to: 'email' });
const productCode = step(renameColumn, { table: 'Product', from: 'sku', to: 'code' });
const purchases = step(renameTable, { from: 'Order', to: 'Purchase' });
const statuses = step(changeEnum, { enum: 'OrderStatus', values: ['PENDING', 'PAID', 'SHIPPED'], map: { LEGACY_SHIPPED: 'SHIPPED' } });

/** The plan; `migrationsDir` is given by the caller (a scratch directory in the test). */
export function ecommercePlan(migrationsDir: string) {
  return definePlan({
    name: 'ecommerce',
    migrationsDir,
    migrationPrefix: '20300601000000',
    phases: [
      definePhase({ name: 'customer_email', steps: [schemaStep('rename', customerEmail)] }),
      // The index goes first, then the column is renamed, in one phase: the rename is planned on the catalog the drop leaves.
      definePhase({ name: 'product_code', steps: [schemaStep('drop_sku_index', step(dropIndex, { name: 'Product_sku_idx' })), schemaStep('rename', productCode)] }),
      definePhase({ name: 'purchases', steps: [schemaStep('rename', purchases)] }),
      definePhase({ name: 'order_status', dependsOn: ['purchases'], steps: [schemaStep('statuses', statuses)] }),
      definePhase({
        name: 'contract',
        kind: 'contract',
        dependsOn: ['customer_email', 'product_code', 'purchases', 'order_status'],
        steps: [contractStep('customer_email', customerEmail), contractStep('product_code', productCode), contractStep('purchases', purchases), contractStep('statuses', statuses)],
      }),
    ],
  });
}
