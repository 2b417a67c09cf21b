import { z } from 'zod';

/**
 * A line of strategies.jsonl as users may edit it. Checked when read back, so a hand edit that breaks the
 * shape stops the run with the entry named, instead of producing odd records.
 */
export const StageOneEntrySchema = z.object({
  method: z.enum(['ar', 'ar-task', 'entigraph']),
  doc_id: z.string().min(1),
  title: z.string(),
  chunk_index: z.number().int().min(0),
  rep: z.number().int().min(0),
  strategies: z.array(z.string()),
  questions: z.array(z.string()).optional(),
  entities: z.array(z.string()).optional(),
  pairs: z.array(z.tuple([z.string(), z.string()])).optional(),
  template: z.string(),
});

/** One readable line describing what is wrong with an entry. */
export function describeEntryProblem(value: unknown): string | undefined {
  const parsed = StageOneEntrySchema.safeParse(value);
  if (parsed.success) return undefined;
  return parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || 'entry'}: ${issue.message}`)
    .join('; ');
}
