import { ApiError } from '../api/client';

/** A readable message for anything thrown by the API layer. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.details.length ? err.details.join('; ') : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}
