// A minimal builder over onnx-proto's ModelProto: nodes with auto-named outputs, little-endian
// initializers and typed graph I/O, serialized deterministically (same calls -> same bytes).
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type TensorElement = 'float32' | 'int64' | 'bool';
export type Dim = number | string;
type Attr = number | number[] | { float: number } | { tensor: onnxProto.onnx.ITensorProto };

const DATA_TYPE: Record<TensorElement, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

export const OPSET_VERSION = 17;
/** IR version 8 is the one paired with opset 17 (ONNX 1.12); onnxruntime 1.30 accepts both. */
export const IR_VERSION = 8;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Little-endian bytes of a typed array (ONNX raw_data is little-endian on every platform). */
export function littleEndianBytes(array: Float32Array | BigInt64Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
  const bytes = new Uint8Array(array.byteLength);
  const view = new DataView(bytes.buffer);
  if (array instanceof Float32Array) for (let i = 0; i < array.length; i++) view.setFloat32(i * 4, array[i], true);
  else for (let i = 0; i < array.length; i++) view.setBigInt64(i * 8, array[i], true);
  return bytes;
}

export function valueInfo(name: string, element: TensorElement, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[element],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.TENSOR, t: value.tensor };
}

export class OnnxGraphWriter {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private counter = 0;

  /** Adds a node and returns its output names; `outputs` names them, else they are auto-named. */
  opN(opType: string, inputs: string[], outputs: number | string[], attrs: Record<string, Attr> = {}): string[] {
    const id = this.counter++;
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, k) => `/${opType}_${id}/out${k}`) : outputs;
    this.nodes.push({
      name: `/${opType}_${id}`,
      opType,
      input: inputs,
      output: names,
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return names;
  }

  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.opN(opType, inputs, output === undefined ? 1 : [output], attrs)[0];
  }

  floatTensor(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: DATA_TYPE.float32, rawData: littleEndianBytes(data) });
    return name;
  }

  int64Tensor(name: string, dims: number[], values: number[]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: DATA_TYPE.int64, rawData: littleEndianBytes(data) });
    return name;
  }

  /** A named int64 vector constant (deduplicated by value). */
  ints(values: number[]): string {
    const name = `const_i64_[${values.join(',')}]`;
    if (!this.initializers.some((t) => t.name === name)) this.int64Tensor(name, [values.length], values);
    return name;
  }

  /** A named int64 scalar constant. */
  scalarInt(value: number): string {
    const name = `const_i64_${value}`;
    if (!this.initializers.some((t) => t.name === name)) this.int64Tensor(name, [], [value]);
    return name;
  }

  scalarFloat(value: number): string {
    const name = `const_f32_${value}`;
    if (!this.initializers.some((t) => t.name === name)) this.floatTensor(name, [], Float32Array.of(value));
    return name;
  }

  toModelBytes(graph: { name: string; inputs: onnxProto.onnx.IValueInfoProto[]; outputs: onnxProto.onnx.IValueInfoProto[] }, producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: producer,
      producerVersion: '1',
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      graph: { name: graph.name, node: this.nodes, initializer: this.initializers, input: graph.inputs, output: graph.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
