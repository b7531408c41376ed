// Entry point of a training thread (worker_threads): runs the training loop, whose onnxruntime
// run() calls block their thread, so the caller's event loop never waits on a step.
import { type MessagePort, parentPort } from 'node:worker_threads';
import { serializeError } from '../runtime/runtime-errors.js';
import { runTrainingLoop } from './training-loop.js';
import type { FromTrainingThread, ToTrainingThread } from './training-thread-protocol.js';

function requireParentPort(): MessagePort {
  if (!parentPort) throw new Error('training-thread.ts must run in a worker thread');
  return parentPort;
}
const port = requireParentPort();
const send = (message: FromTrainingThread, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

port.once('message', (message: ToTrainingThread) => {
  // The main thread raises the flag on abort; it is read between steps, never during one.
  const stopFlag = new Int32Array(message.stopFlag);
  runTrainingLoop(message.request, {
    onStep: (progress) => send({ type: 'step', progress }),
    shouldStop: () => Atomics.load(stopFlag, 0) !== 0,
  })
    .then((result) => {
      const buffers = new Set([...result.weights.values()].map((t) => t.data.buffer as ArrayBuffer));
      try {
        send({ type: 'done', result }, [...buffers]);
      } catch {
        send({ type: 'done', result }); // a buffer that cannot move is copied instead
      }
    })
    .catch((error: unknown) => send({ type: 'failed', error: serializeError(error) }))
    .finally(() => port.close());
});
