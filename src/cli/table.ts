/** Plain-text layout for humans: aligned tables and "key: value" blocks, no colours. */

export interface Column {
  readonly header: string
  readonly isNumeric?: boolean
}

/**
 * Control characters (a newline in an AIDE message or a link target) would break the layout and
 * make output ambiguous; they are shown as \xNN, like file names.
 */
export function oneLine (text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, c => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

function width (text: string): number {
  return [...text].length
}

function pad (text: string, size: number, isRight: boolean): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)))
  return isRight ? fill + text : text + fill
}

export function renderTable (columns: readonly Column[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map(r => r.map(oneLine))
  const sizes = columns.map((c, i) => Math.max(width(c.header), ...cells.map(r => width(r[i] ?? ''))))
  const line = (r: readonly string[]): string =>
    columns.map((c, i) => pad(r[i] ?? '', sizes[i] ?? 0, c.isNumeric === true)).join('  ').trimEnd()
  return [line(columns.map(c => c.header)), ...cells.map(line)].join('\n')
}

export function renderPairs (pairs: ReadonlyArray<readonly [string, string]>): string {
  const size = Math.max(...pairs.map(([k]) => width(k))) + 1
  return pairs.map(([k, v]) => `${pad(`${k}:`, size, false)}  ${oneLine(v)}`).join('\n')
}
