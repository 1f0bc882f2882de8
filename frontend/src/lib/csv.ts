/** CSV cells a spreadsheet opens as data, never as a formula. */

// A text cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets
// (`=cmd|' /C calc'!A0` in a sample id would reach whoever opens the export).
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: numbers stay numbers; text that could start a formula gets a leading `'`;
 *  quoting as RFC 4180 needs. */
export function csvCell(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(',');
}
