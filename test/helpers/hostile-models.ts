// Hostile fixtures for model uploads: ONNX models that point at files outside themselves (external
// data in every place a tensor can hide), and hand-written tar archives with entries no tool would
// make (symlinks, `..` paths, declared sizes with no data behind them).
import { gzipSync } from 'node:zlib';
import type onnxProto from 'onnx-proto';
import { onnx } from '../../src/runtime/onnx-graph-writer.js';

type Tensor = onnxProto.onnx.ITensorProto;

/** A float tensor whose data is "stored" at `location`, relative to wherever the model is loaded. */
export function externalTensor(name: string, location: string, elements = 4): Tensor {
  return {
    name,
    dims: [elements],
    dataType: onnx.TensorProto.DataType.FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(elements * 4) },
    ],
  };
}

function edit(bytes: Uint8Array, change: (graph: onnxProto.onnx.IGraphProto) => void): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  change(model.graph as onnxProto.onnx.IGraphProto);
  return onnx.ModelProto.encode(model).finish();
}

/** The decoder's first initializer (the token embedding) replaced by external data at `location`. */
export const withExternalInitializer = (bytes: Uint8Array, location: string) =>
  edit(bytes, (g) => {
    const first = g.initializer![0];
    const elements = (first.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    g.initializer![0] = { ...externalTensor(first.name!, location, elements), dims: first.dims };
  });

const T = onnx.AttributeProto.AttributeType;
const constantNode = (output: string, location: string): onnxProto.onnx.INodeProto => ({
  name: `/hostile/${output}`,
  opType: 'Constant',
  output: [output],
  attribute: [{ name: 'value', type: T.TENSOR, t: externalTensor(`${output}_value`, location) }],
});

/** A Constant node whose `value` attribute tensor is external data. */
export const withExternalAttribute = (bytes: Uint8Array, location: string) =>
  edit(bytes, (g) => {
    g.node!.push(constantNode('hostile_constant', location));
  });

/** An If node whose then-branch holds a Constant with external data (two levels down). */
export const withExternalInSubgraph = (bytes: Uint8Array, location: string) =>
  edit(bytes, (g) => {
    const branch = (name: string, inner: onnxProto.onnx.INodeProto): onnxProto.onnx.IGraphProto => ({
      name,
      node: [inner],
      output: [{ name: inner.output![0], type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 4 }] } } } }],
    });
    g.initializer!.push({ name: 'hostile_flag', dims: [], dataType: onnx.TensorProto.DataType.BOOL, rawData: Uint8Array.of(1) });
    g.node!.push({
      name: '/hostile/if',
      opType: 'If',
      input: ['hostile_flag'],
      output: ['hostile_if_out'],
      attribute: [
        { name: 'then_branch', type: T.GRAPH, g: branch('then', constantNode('hostile_then', location)) },
        {
          name: 'else_branch',
          type: T.GRAPH,
          g: branch('else', { name: '/hostile/else', opType: 'Constant', output: ['hostile_else'], attribute: [{ name: 'value_floats', type: T.FLOATS, floats: [0, 0, 0, 0] }] }),
        },
      ],
    });
  });

/** A sparse initializer whose values are external data. */
export const withExternalSparseInitializer = (bytes: Uint8Array, location: string) =>
  edit(bytes, (g) => {
    g.sparseInitializer = [
      ...(g.sparseInitializer ?? []),
      {
        values: externalTensor('hostile_sparse', location),
        indices: { name: 'hostile_sparse_indices', dims: [4], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0, 1, 2, 3] },
        dims: [16],
      },
    ];
  });

export interface TarEntrySpec {
  path: string;
  /** '0' file (default), '1' hard link, '2' symlink, '3' char device, '5' folder. */
  type?: '0' | '1' | '2' | '3' | '5';
  data?: Uint8Array | string;
  /** Size written in the header when it should differ from the data (a claim with nothing behind it). */
  declaredSize?: number;
  linkTarget?: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block plus its padded data. */
function tarEntry(spec: TarEntrySpec): Buffer {
  const data = spec.data === undefined ? Buffer.alloc(0) : Buffer.from(spec.data);
  const header = Buffer.alloc(512);
  header.write(spec.path, 0, 100, 'utf8');
  header.write(octal(spec.type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(spec.declaredSize ?? data.length, 12), 124, 'ascii');
  header.write(octal(1_700_000_000, 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write(spec.type ?? '0', 156, 'ascii');
  if (spec.linkTarget) header.write(spec.linkTarget, 157, 100, 'utf8');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding]);
}

/** A .tar.gz of `entries` exactly as given; `end: false` leaves off the end-of-archive blocks. */
export function tarGz(entries: TarEntrySpec[], options: { end?: boolean; trailingZeros?: number } = {}): Buffer {
  const blocks = entries.map(tarEntry);
  if (options.end !== false) blocks.push(Buffer.alloc(1024));
  if (options.trailingZeros) blocks.push(Buffer.alloc(options.trailingZeros));
  return gzipSync(Buffer.concat(blocks));
}
