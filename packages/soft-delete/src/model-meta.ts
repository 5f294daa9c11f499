/** A relation field of a model, as the `prisma-evolve-meta` generator records it. */
export interface RelationMeta {
  readonly model: string;
  readonly list: boolean;
  /** Foreign key fields on this side (empty on the side without the key). */
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly required: boolean;
}

/** One model's metadata. */
export interface ModelInfo {
  readonly name: string;
  readonly table: string;
  readonly scalars: readonly string[];
  /** Prisma type and optionality of each scalar field. */
  readonly fieldTypes: Readonly<Record<string, { readonly type: string; readonly optional: boolean }>>;
  readonly relations: Readonly<Record<string, RelationMeta>>;
  /** Fields identifying a row: the primary key, else the first unique key. */
  readonly id: readonly string[];
  /** Compound where-input name for a multi-field `id` (`orgId_userId`), null for one field. */
  readonly idInput: string | null;
  readonly uniques: readonly (readonly string[])[];
}

/** The unique `where` that finds `row` of a model (compound keys nested under their input name). Pure. */
export function whereById(info: ModelInfo, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const values = Object.fromEntries(info.id.map((field) => [field, row[field]]));
  return info.idInput ? { [info.idInput]: values } : values;
}

/**
 * What the extensions know about a schema, generated from schema.prisma by the `prisma-evolve-meta`
 * generator (Prisma 7's `prisma-client` generator keeps no DMMF at runtime).
 */
export interface ModelMeta {
  readonly models: Readonly<Record<string, ModelInfo>>;
}

/** Scalar field names of model `M` of a metadata object. */
export type ScalarOf<Meta extends ModelMeta, M extends keyof Meta['models']> = Meta['models'][M]['scalars'][number];

/** `User` → `user`: the property name of a model's delegate on the client. */
export function delegateName(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}
