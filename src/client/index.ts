// The gateway's TypeScript client: `import { createGatewayClient } from 'posthuman-gateway/src/client/index.js'`.
export { readEventStream, type EventMessage } from './event-stream.js';
export {
  type Account,
  createGatewayClient,
  GatewayError,
  type GatewayClient,
  type GatewayClientOptions,
  type InferRequest,
  type Job,
  type JobEvent,
  type Model,
  type Problem,
  type Receipt,
  type ReceiptCheckResult,
  unwrap,
} from './gateway-client.js';
export type { components, operations, paths } from './openapi-types.js';
