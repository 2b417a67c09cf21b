const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// C0 controls other than tab, newline and carriage return are not allowed in HTML or XML text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

/** Escapes text for HTML/SVG content and quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(CONTROL, '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
