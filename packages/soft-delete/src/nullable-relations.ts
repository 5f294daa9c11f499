/**
 * `T` with its to-one relations `K` typed as possibly `null`. The generated client types a required to-one
 * relation as non-null (`order.customer: Customer`), but with `softDelete` a relation to a soft-deleted row
 * reads as `null`. Pure type.
 */
export type SoftDeletedRelations<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | null };

/**
 * Types `value` (a query result, or `null`) so that the named to-one relations may be `null`, as they are at
 * runtime when the related row is soft-deleted: `const order = nullableRelations(await prisma.order.findFirst({
 * include: { customer: true } }), 'customer')`, then `order?.customer?.email`. Returns `value` itself:
 * nothing is copied or read. Pure.
 */
export function nullableRelations<T, K extends keyof NonNullable<T>>(value: T, ...relations: readonly K[]): T extends null | undefined ? T : SoftDeletedRelations<NonNullable<T>, K> {
  void relations;
  return value as T extends null | undefined ? T : SoftDeletedRelations<NonNullable<T>, K>;
}
