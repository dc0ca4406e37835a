/** Turns runtime-schema failures into a ValidationError whose issues name the field path. */
import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.ts';

/** Field issues of a zod error, with paths like `lines.3.amount`. */
export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** Parses `input` with `schema` or throws a ValidationError listing every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = zodIssues(r.error);
  throw new ValidationError(
    `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}
