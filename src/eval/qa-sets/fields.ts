import { z } from 'zod';

export function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** The trimmed text, or why it is not usable (a number is accepted as its decimal text: answers can be "1987"). */
export function checkText(value: unknown): string | { problem: string } {
  if (value === undefined || value === null) return { problem: 'is missing' };
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return { problem: `must be a string (got ${typeName(value)})` };
  const text = value.trim();
  return text ? text : { problem: 'is empty' };
}

/** A required, non-blank text field (trimmed). */
export const requiredText = z.unknown().transform((value, ctx) => {
  const text = checkText(value);
  if (typeof text === 'string') return text;
  ctx.addIssue({ code: 'custom', message: text.problem });
  return z.NEVER;
});

/** All of a failed validation's issues as one line: `"answer" is empty; "chunk_index" must be ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `"${path}" ${issue.message}` : issue.message;
    })
    .join('; ');
}
