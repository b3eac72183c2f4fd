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

/** One CSV record with the line of the text it starts on (1-based). */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/**
 * {@link parseCsv} with line numbers, for error messages: each record with the line it starts on
 * (a quoted line break makes a record span lines), and `unclosedQuoteLine`, the line of a quote
 * that opens a field the text never closes (null when every quote is closed).
 * @example parseCsvRecords('a,b\n"x\ny",2\n').records // [{ line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['x\ny', '2'] }]
 */
export function parseCsvRecords(text: string): { records: CsvRecord[]; unclosedQuoteLine: number | null } {
  const records: CsvRecord[] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        field += c;
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
      }
    } else if (c === '"') {
      quoted = true;
      quoteLine = line;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      records.push({ line: rowLine, cells: row });
      row = [];
      field = '';
      rowLine = ++line;
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    records.push({ line: rowLine, cells: row });
  }
  return { records, unclosedQuoteLine: quoted ? quoteLine : null };
}

/**
 * Splits CSV text into rows of fields. Quoted fields may hold commas, doubled quotes and line
 * breaks; lines end in `\n`, `\r\n` or `\r`; a final line break adds no empty row.
 */
export function parseCsv(text: string): string[][] {
  return parseCsvRecords(text).records.map((r) => r.cells);
}
