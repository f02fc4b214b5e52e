/**
 * CSV and tab-separated lines (RFC 4180 quoting: `"a, b"`, `"say ""hi"""`). A quoted field may span
 * lines; {@link CsvLineParser.push} then asks for the next line.
 */

/** Split one complete CSV record into fields. Returns undefined when a quote is still open. */
export function splitCsv(text: string, delimiter = ','): string[] | undefined {
  if (text.indexOf('"') < 0) return text.split(delimiter);
  const out: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field.length === 0) quoted = true;
    else if (c === delimiter) {
      out.push(field);
      field = '';
    } else field += c;
    i++;
  }
  if (quoted) return undefined;
  out.push(field);
  return out;
}

/** Quote a field for CSV output when it needs it. */
export function quoteCsv(v: string, delimiter = ','): string {
  return v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r') ? `"${v.replace(/"/g, '""')}"` : v;
}
