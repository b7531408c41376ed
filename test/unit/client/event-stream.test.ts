import { describe, expect, it } from 'vitest';
import { readEventStream } from '../../../src/client/event-stream.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

const read = async (chunks: string[]) => {
  const out = [];
  for await (const m of readEventStream(streamOf(chunks))) out.push(m);
  return out;
};

describe('readEventStream', () => {
  it('reads events split anywhere, with CRLF or LF, joining multi-line data and skipping comments', async () => {
    const text = 'event: token\r\ndata: {"index":0}\r\n\r\n: keep-alive\n\ndata: line one\ndata: line two\n\nevent: done\ndata: {}\n\n';
    const whole = await read([text]);
    expect(whole).toEqual([
      { event: 'token', data: '{"index":0}' },
      { event: 'message', data: 'line one\nline two' },
      { event: 'done', data: '{}' },
    ]);
    // Byte by byte (a CRLF split between chunks included) gives the same events.
    expect(await read([...text])).toEqual(whole);
  });

  it('drops an event cut off before its blank line, as the SSE specification says', async () => {
    expect(await read(['data: one\n\ndata: [DONE]\n'])).toEqual([{ event: 'message', data: 'one' }]);
    expect(await read([])).toEqual([]);
  });
});
