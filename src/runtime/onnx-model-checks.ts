// Parses an ONNX ModelProto and refuses anything that reaches outside its own bytes or exceeds the
// documented limits. Run on upload (in the validation child) and again by the worker before it
// builds a session: onnxruntime resolves external-data locations against the process's working
// directory when a model is created from bytes, so one relative path would read the worker's files.
import type onnxProto from 'onnx-proto';
import { onnx } from './onnx-graph-writer.js';
import { ModelLoadError } from './runtime-errors.js';

export const ONNX_MODEL_LIMITS = {
  /** Nodes across the main graph, every subgraph and every local function. */
  maxNodes: 100_000,
  /** Graph nesting (If/Loop/Scan bodies inside bodies). */
  maxGraphDepth: 8,
  /** Default-domain (ai.onnx) opset range onnxruntime 1.30 runs and the runtime was tested within. */
  minOpset: 13,
  maxOpset: 23,
  /** ONNX IR versions accepted (7 = ONNX 1.8 … 11 = ONNX 1.18). */
  minIrVersion: 7,
  maxIrVersion: 11,
  /** Elements of one tensor (GPT-2 XL's embedding is 80M). */
  maxTensorElements: 2 ** 28,
  /** Elements of all stored tensors together. */
  maxTotalElements: 2 ** 31,
} as const;

/** Operator domains a decoder may use: the ONNX default domain and onnxruntime's contrib ops. */
const ALLOWED_DOMAINS = new Set(['', 'ai.onnx', 'com.microsoft']);

export interface OnnxModelStats {
  nodes: number;
  tensors: number;
  tensorElements: number;
  opset: number;
}

type Tensor = onnxProto.onnx.ITensorProto;
type Graph = onnxProto.onnx.IGraphProto;

const refuse = (reason: string): never => {
  throw new ModelLoadError(`the ONNX model is refused: ${reason}`);
};

class ModelWalker {
  nodes = 0;
  tensors = 0;
  tensorElements = 0;

  tensor(t: Tensor | null | undefined, where: string): void {
    if (!t) return;
    const name = t.name ? `"${t.name}"` : '(unnamed)';
    if (Number(t.dataLocation ?? 0) === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
      const location = t.externalData?.find((e) => e.key === 'location')?.value;
      refuse(`tensor ${name} in ${where} is stored as external data${location ? ` (location "${location}")` : ''}; only self-contained models are accepted`);
    }
    let elements = 1;
    for (const d of t.dims ?? []) {
      const dim = Number(d);
      if (!Number.isSafeInteger(dim) || dim < 0) refuse(`tensor ${name} in ${where} has an invalid dimension ${String(d)}`);
      elements *= dim;
    }
    if (elements > ONNX_MODEL_LIMITS.maxTensorElements) {
      refuse(`tensor ${name} in ${where} has ${elements} elements (limit ${ONNX_MODEL_LIMITS.maxTensorElements})`);
    }
    this.tensors++;
    this.tensorElements += elements;
    if (this.tensorElements > ONNX_MODEL_LIMITS.maxTotalElements) {
      refuse(`the model's tensors hold more than ${ONNX_MODEL_LIMITS.maxTotalElements} elements together`);
    }
  }

  sparse(s: onnxProto.onnx.ISparseTensorProto | null | undefined, where: string): void {
    if (!s) return;
    this.tensor(s.values, `${where} (sparse values)`);
    this.tensor(s.indices, `${where} (sparse indices)`);
  }

  attributes(attrs: onnxProto.onnx.IAttributeProto[] | null | undefined, where: string, depth: number): void {
    for (const a of attrs ?? []) {
      const at = `${where} attribute "${a.name ?? ''}"`;
      this.tensor(a.t, at);
      for (const t of a.tensors ?? []) this.tensor(t, at);
      this.sparse(a.sparseTensor, at);
      for (const s of a.sparseTensors ?? []) this.sparse(s, at);
      if (a.g) this.graph(a.g, at, depth + 1);
      for (const g of a.graphs ?? []) this.graph(g, at, depth + 1);
    }
  }

  nodeList(nodes: onnxProto.onnx.INodeProto[] | null | undefined, where: string, depth: number): void {
    for (const n of nodes ?? []) {
      this.nodes++;
      if (this.nodes > ONNX_MODEL_LIMITS.maxNodes) refuse(`the model has more than ${ONNX_MODEL_LIMITS.maxNodes} nodes`);
      const domain = n.domain ?? '';
      if (!ALLOWED_DOMAINS.has(domain)) refuse(`node "${n.name ?? n.opType}" uses the operator domain "${domain}"`);
      this.attributes(n.attribute, `${where} node "${n.name ?? n.opType ?? ''}"`, depth);
    }
  }

  graph(g: Graph, where: string, depth: number): void {
    if (depth > ONNX_MODEL_LIMITS.maxGraphDepth) refuse(`subgraphs nest deeper than ${ONNX_MODEL_LIMITS.maxGraphDepth} levels`);
    const at = depth === 0 ? 'the main graph' : `a subgraph of ${where}`;
    for (const t of g.initializer ?? []) this.tensor(t, `${at} initializers`);
    for (const s of g.sparseInitializer ?? []) this.sparse(s, `${at} sparse initializers`);
    this.nodeList(g.node, at, depth);
  }
}

/** Throws ModelLoadError unless `bytes` is a self-contained ONNX model within ONNX_MODEL_LIMITS. */
export function checkOnnxModel(bytes: Uint8Array): OnnxModelStats {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ModelLoadError(`the decoder file is not a readable ONNX model: ${(error as Error).message}`, { cause: error });
  }
  const ir = Number(model.irVersion ?? 0);
  if (ir < ONNX_MODEL_LIMITS.minIrVersion || ir > ONNX_MODEL_LIMITS.maxIrVersion) {
    refuse(`IR version ${ir} is outside ${ONNX_MODEL_LIMITS.minIrVersion}..${ONNX_MODEL_LIMITS.maxIrVersion}`);
  }
  let opset = 0;
  for (const o of model.opsetImport ?? []) {
    const domain = o.domain ?? '';
    if (!ALLOWED_DOMAINS.has(domain)) refuse(`it imports the operator set domain "${domain}"`);
    if (domain === '' || domain === 'ai.onnx') opset = Number(o.version ?? 0);
  }
  if (opset < ONNX_MODEL_LIMITS.minOpset || opset > ONNX_MODEL_LIMITS.maxOpset) {
    refuse(`opset ${opset} is outside ${ONNX_MODEL_LIMITS.minOpset}..${ONNX_MODEL_LIMITS.maxOpset}`);
  }
  // Training graphs are not run, but onnxruntime still parses and initializes them.
  if ((model.trainingInfo?.length ?? 0) > 0) refuse('it carries training_info graphs');
  if (!model.graph) refuse('it has no graph');
  const walker = new ModelWalker();
  walker.graph(model.graph as Graph, 'the main graph', 0);
  for (const f of model.functions ?? []) walker.nodeList(f.node, `function "${f.name ?? ''}"`, 1);
  return { nodes: walker.nodes, tensors: walker.tensors, tensorElements: walker.tensorElements, opset };
}
