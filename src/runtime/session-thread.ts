// Entry point of a session thread (worker_threads): owns the ONNX Runtime sessions, whose run()
// blocks its thread, and the generation loop, so the main thread's event loop never waits on them.
import { type MessagePort, parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { DecoderSession } from './decoder-session.js';
import { gpt2TokenByteTable } from './gpt2-tokenizer.js';
import { KvCacheGenerator } from './kv-cache-generator.js';
import { serializeError } from './runtime-errors.js';
import type { FromThread, LoadedModel, ToThread } from './session-thread-protocol.js';
import { readVerifiedWeights } from './weights-file.js';

function requireParentPort(): MessagePort {
  if (!parentPort) throw new Error('session-thread.ts must run in a worker thread');
  return parentPort;
}
const port = requireParentPort();

let decoder: DecoderSession | undefined;
let generator: KvCacheGenerator | undefined;

const send = (message: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

function model(): { decoder: DecoderSession; generator: KvCacheGenerator } {
  if (!decoder || !generator) throw new Error('no model loaded in this session thread');
  return { decoder, generator };
}

async function handle(message: ToThread): Promise<void> {
  switch (message.type) {
    case 'load': {
      const { onnxPath, expectedSha256, config, threads } = message.load;
      const { bytes, sha256 } = await readVerifiedWeights(onnxPath, expectedSha256);
      gpt2TokenByteTable(); // built now rather than in the first request's latency
      // Evaluation derives its graph later from a re-read that must hash the same, so the bytes are not kept.
      decoder = await DecoderSession.create(bytes, config, threads, () => readVerifiedWeights(onnxPath, sha256).then((r) => r.bytes));
      generator = new KvCacheGenerator(decoder, config, {
        onTokens: (items) => send({ type: 'tokens', items }),
        onRowDone: (result) => send({ type: 'row-done', result }),
        onRowsFailed: (requestIds, error) => send({ type: 'rows-failed', requestIds, error: serializeError(error) }),
      });
      const loaded: LoadedModel = {
        weightsSha256: sha256,
        runtimeVersion: ort.env.versions.node ?? ort.env.versions.common,
        hasPositionIds: decoder.signature.hasPositionIds,
      };
      send({ type: 'reply', callId: message.callId, value: loaded });
      return;
    }
    case 'generate':
      model().generator.enqueue(message.rows);
      return;
    case 'cancel':
      generator?.cancel(message.requestId);
      return;
    case 'evaluate': {
      const logprobs = await model().decoder.evaluate(message.batch);
      send({ type: 'reply', callId: message.callId, value: logprobs }, [logprobs.buffer as ArrayBuffer]);
      return;
    }
    case 'close':
      await generator?.shutdown();
      await decoder?.dispose();
      decoder = undefined;
      generator = undefined;
      send({ type: 'reply', callId: message.callId, value: null });
      port.close();
      return;
  }
}

port.on('message', (message: ToThread) => {
  handle(message).catch((error: unknown) => {
    if ('callId' in message) send({ type: 'failed', callId: message.callId, error: serializeError(error) });
    else if (message.type === 'generate') {
      send({ type: 'rows-failed', requestIds: message.rows.map((r) => r.requestId), error: serializeError(error) });
    }
  });
});
