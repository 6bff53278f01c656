import { Type, type TSchema } from '@sinclair/typebox';

/** A string enum as plain JSON Schema `enum`: one clear validation error and a clean OpenAPI entry. */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}
