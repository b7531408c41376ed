// Reads a Server-Sent Events body (text/event-stream) as { event, data } messages: `event:` and
// `data:` fields, multi-line data joined with "\n", comments (`: keep-alive`) skipped. Works on any
// WHATWG ReadableStream, so browsers and Node's fetch alike.

export interface EventMessage {
  /** The `event:` field; `message` when the server sent none. */
  event: string;
  data: string;
}

/** The end of the first complete line in `buffer` ([end, next line start]), or null. */
function lineEnd(buffer: string): [number, number] | null {
  const i = buffer.search(/[\r\n]/);
  if (i === -1) return null;
  if (buffer[i] === '\n') return [i, i + 1];
  // A CR at the very end may be the first half of a CRLF still on its way.
  if (i === buffer.length - 1) return null;
  return [i, buffer[i + 1] === '\n' ? i + 2 : i + 1];
}

export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<EventMessage> {
  // DOM's TextDecoderStream types its writable side as BufferSource; a byte stream is what it takes.
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).getReader();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = lineEnd(buffer); end !== null; end = lineEnd(buffer)) {
        const line = buffer.slice(0, end[0]);
        buffer = buffer.slice(end[1]);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = text;
          else if (field === 'data') data.push(text);
        }
      }
    }
    // An event cut off before its blank line is not dispatched (the SSE specification's rule).
  } finally {
    // Also when the caller stops early: the connection is closed, not left open.
    await reader.cancel().catch(() => {});
  }
}
