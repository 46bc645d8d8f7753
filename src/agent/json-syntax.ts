/**
 * Finds where JSON text first goes wrong. V8's JSON.parse messages in Node 20 often carry no
 * position ("Unexpected token ']', ...\"x\"},\n]}\" is not valid JSON"), and a policy error must
 * name its line; so after JSON.parse has refused a file, this scanner walks it to the offset.
 */

const WS = new Set([' ', '\t', '\n', '\r'])
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/
const STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/

class Scanner {
  pos = 0
  constructor (readonly text: string) {}

  skip (): void {
    while (this.pos < this.text.length && WS.has(this.text[this.pos] as string)) this.pos++
  }

  fail (): never {
    throw this.pos
  }

  match (re: RegExp): void {
    const m = re.exec(this.text.slice(this.pos))
    if (m === null) this.fail()
    this.pos += m[0].length
  }

  list (close: string, item: () => void): void {
    this.pos++
    this.skip()
    if (this.text[this.pos] === close) { this.pos++; return }
    for (;;) {
      item()
      this.skip()
      const c = this.text[this.pos]
      if (c === close) { this.pos++; return }
      if (c !== ',') this.fail()
      this.pos++
    }
  }

  value (): void {
    this.skip()
    const c = this.text[this.pos]
    if (c === '{') this.list('}', () => { this.skip(); this.match(STRING); this.skip(); if (this.text[this.pos] !== ':') this.fail(); this.pos++; this.value() })
    else if (c === '[') this.list(']', () => this.value())
    else if (c === '"') this.match(STRING)
    else this.match(c === 't' || c === 'f' || c === 'n' ? /^(?:true|false|null)/ : NUMBER)
  }
}

/** Offset of the first syntax error, or null when the text is valid JSON. */
export function jsonErrorOffset (text: string): number | null {
  const s = new Scanner(text)
  try {
    s.value()
    s.skip()
    return s.pos === text.length ? null : s.pos
  } catch (pos) {
    return pos as number
  }
}
