// Derives the evaluation graph from the decoder's own (hashed) ONNX bytes, so evaluation can only
// ever use the verified weights: past inputs become empty tensors made in-graph, a `labels` input
// is added, and the only output is `token_logprobs` = log_softmax(logits) gathered at the labels,
// so full logits never travel to JavaScript.
import type onnxProto from 'onnx-proto';
import { type Gpt2Config, headDim } from './gpt2-config.js';
import { littleEndianBytes, onnx, valueInfo } from './onnx-graph-writer.js';
import { ModelLoadError } from './runtime-errors.js';

const PREFIX = 'posthuman_eval';

export function deriveEvalGraph(decoderBytes: Uint8Array, config: Gpt2Config): Uint8Array {
  const model = onnx.ModelProto.decode(decoderBytes);
  const graph = model.graph;
  if (!graph) throw new ModelLoadError('the ONNX file has no graph');
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opset || Number(opset.version) < 13) throw new ModelLoadError('evaluation needs a decoder exported with opset 13 or later');

  const int64 = (name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto => ({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: littleEndianBytes(BigInt64Array.from(values.map(BigInt))),
  });
  const node = (opType: string, input: string[], output: string[], attribute: onnxProto.onnx.IAttributeProto[] = []) =>
    onnx.NodeProto.create({ name: `/${PREFIX}/${opType}_${output[0]}`, opType, input, output, attribute });

  const initializers: onnxProto.onnx.ITensorProto[] = [
    int64(`${PREFIX}/zero`, [1], [0]),
    int64(`${PREFIX}/empty_tail`, [3], [config.nHead, 0, headDim(config)]),
    int64(`${PREFIX}/axis2`, [1], [2]),
  ];
  // [batch, heads, 0, head_dim] zeros for every past input, batch read from input_ids at run time.
  const front = [
    node('Shape', ['input_ids'], [`${PREFIX}/ids_shape`]),
    node('Gather', [`${PREFIX}/ids_shape`, `${PREFIX}/zero`], [`${PREFIX}/batch`], [{ name: 'axis', type: 2, i: 0 }]),
    node('Concat', [`${PREFIX}/batch`, `${PREFIX}/empty_tail`], [`${PREFIX}/past_shape`], [{ name: 'axis', type: 2, i: 0 }]),
  ];
  const keptInputs: onnxProto.onnx.IValueInfoProto[] = [];
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (name.startsWith('past_key_values.')) {
      front.push(node('ConstantOfShape', [`${PREFIX}/past_shape`], [name]));
    } else if (name === 'use_cache_branch') {
      initializers.push({ name, dims: [1], dataType: onnx.TensorProto.DataType.BOOL, rawData: Uint8Array.of(0) });
    } else {
      keptInputs.push(input);
    }
  }
  const back = [
    node('LogSoftmax', ['logits'], [`${PREFIX}/logprobs`], [{ name: 'axis', type: 2, i: -1 }]),
    node('Unsqueeze', ['labels', `${PREFIX}/axis2`], [`${PREFIX}/labels3d`]),
    node('GatherElements', [`${PREFIX}/logprobs`, `${PREFIX}/labels3d`], [`${PREFIX}/picked`], [{ name: 'axis', type: 2, i: 2 }]),
    node('Squeeze', [`${PREFIX}/picked`, `${PREFIX}/axis2`], ['token_logprobs']),
  ];
  graph.node = [...front, ...(graph.node ?? []), ...back];
  graph.initializer = [...(graph.initializer ?? []), ...initializers];
  graph.input = [...keptInputs, valueInfo('labels', 'int64', ['batch_size', 'sequence_length'])];
  graph.output = [valueInfo('token_logprobs', 'float32', ['batch_size', 'sequence_length'])];
  return onnx.ModelProto.encode(model).finish();
}
