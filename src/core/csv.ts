/**
 * CSV text (RFC 4180): the one writer and reader behind every CSV file the package writes
 * (manifest.csv, predictions.csv, `agegender predict --csv`).
 *
 * A cell is quoted only when it holds a comma, a quote or a line break; `null` and `undefined`
 * are empty cells. Numbers and booleans are written with `String()` — callers that want fixed
 * decimals format them first.
 *
 * @example
 *   toCsv(['file', 'age'], [['a.jpg', 31], ['b, c.jpg', null]]); // 'file,age\na.jpg,31\n"b, c.jpg",\n'
 *   parseCsv('file,age\na.jpg,31\n'); // [['file', 'age'], ['a.jpg', '31']]
 */

export type CsvValue = string | number | boolean | null | undefined;

/** One cell: empty for null/undefined, quoted (with doubled quotes) when it holds `,` `"` or a line break. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** For numeric columns: integers as they are, other numbers to `digits` decimals; anything else unchanged. */
export function fixedDecimals(value: CsvValue, digits: number): CsvValue {
  return typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(digits) : value;
}

/** One line of cells, without the line break. */
export function csvLine(values: readonly CsvValue[]): string {
  return values.map(csvCell).join(',');
}

/** A whole CSV document: the header line, one line per row, each ending in `\n`. */
export function toCsv(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const lines = [csvLine(header)];
  for (const row of rows) lines.push(csvLine(row));
  return `${lines.join('\n')}\n`;
}

/**
 * Splits CSV text into rows of fields. Quoted fields may hold commas, doubled quotes and line
 * breaks; lines end in `\n`, `\r\n` or `\r`; a final line break adds no empty row.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
