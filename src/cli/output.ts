/**
 * The only writer of the CLI: results to stdout (text, JSON or raw bytes), progress, hints and
 * errors to stderr. The streams are handed in, so tests capture them and nothing here is global.
 */

export interface OutputStreams {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
}

function ignoreClosedPipe (err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err
}

export class Output {
  readonly #streams: OutputStreams

  constructor (streams: OutputStreams) {
    this.#streams = streams
    // `podsec-fim log 12 | head`: the reader leaving early is not an error worth a stack trace.
    streams.stdout.on('error', ignoreClosedPipe)
  }

  /** Human text on stdout, ending with exactly one newline. */
  text (text: string): void {
    this.#streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** One JSON document on stdout. Callers pass plain views: Buffers never reach JSON. */
  json (doc: unknown): void {
    this.#streams.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
  }

  /** Bytes exactly as stored (the AIDE log), nothing added. */
  raw (bytes: Uint8Array): void {
    this.#streams.stdout.write(bytes)
  }

  /** Progress and hints for the human at the terminal; never part of the result. */
  note (text: string): void {
    this.#streams.stderr.write(`${text}\n`)
  }

  error (text: string): void {
    this.#streams.stderr.write(`podsec-fim: ${text}\n`)
  }

  /** commander's own help and usage messages, passed through unchanged. */
  commanderOut (text: string): void {
    this.#streams.stdout.write(text)
  }

  commanderErr (text: string): void {
    this.#streams.stderr.write(text)
  }
}
