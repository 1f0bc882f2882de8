/**
 * Map the envelope's `details` ("max_iterations must be between 1 and 10") to the form field
 * each message names, so errors can be shown next to that field.
 */

export type FieldErrors = Record<string, string[]>;
export const GENERAL = '_general';

export function fieldOf(detail: string, knownFields: readonly string[]): string | null {
  // "body.max_iterations: ...", "target_properties.0: ...", "max_workers must be ..."
  const text = detail.trim().replace(/^body[.\s>-]+/, '');
  const sorted = [...knownFields].sort((a, b) => b.length - a.length);
  for (const field of sorted) {
    if (text.startsWith(field)) {
      const next = text.charAt(field.length);
      if (next === '' || /[\s.:[,'"]/.test(next)) return field;
    }
  }
  return null;
}

export function mapDetailsToFields(details: readonly string[], knownFields: readonly string[]): FieldErrors {
  const out: FieldErrors = {};
  for (const detail of details) {
    const field = fieldOf(detail, knownFields) ?? GENERAL;
    (out[field] ??= []).push(detail);
  }
  return out;
}

export function mergeFieldErrors(...sources: FieldErrors[]): FieldErrors {
  const out: FieldErrors = {};
  for (const src of sources) {
    for (const [key, messages] of Object.entries(src)) (out[key] ??= []).push(...messages);
  }
  return out;
}
