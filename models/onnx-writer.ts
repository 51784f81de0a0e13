/**
 * A small, deterministic protobuf encoder for the subset of ONNX we need to write a model by hand:
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto (float / int64 as raw_data),
 * ValueInfoProto (tensor types with fixed or symbolic dims) and OperatorSetIdProto.
 *
 * Field numbers are those of onnx/onnx.proto3. Fields are written in a fixed order and nothing depends
 * on time or randomness, so the same graph always encodes to the same bytes. Repeated scalars are
 * written packed (the proto3 default; every protobuf parser accepts it).
 */

// ---- ONNX enums (onnx.proto3) --------------------------------------------------------------------

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

// ---- wire format --------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_I32 = 5;
const WIRE_LEN = 2;

/** Append-only byte sink. */
class Writer {
  private chunks: Buffer[] = [];
  private length = 0;

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Unsigned or negative (two's complement, 10 bytes) varint of a 64-bit integer. */
  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.push(Buffer.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): void {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, WIRE_I32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value, 0);
    this.push(b);
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }

  string(field: number, value: string): void {
    this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, encode: (w: Writer) => void): void {
    const inner = new Writer();
    encode(inner);
    this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): void {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): void {
    const b = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => b.writeFloatLE(v, i * 4));
    this.bytes(field, b);
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

// ---- ONNX messages ------------------------------------------------------------------------------

/** A constant tensor (graph initializer or a tensor attribute). Data is stored as little-endian raw_data. */
export interface TensorDef {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  /** FLOAT: numbers or a Float32Array; INT64: numbers or bigints; INT32: numbers. */
  values: ArrayLike<number> | readonly bigint[];
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'tensor'; value: TensorDef };

export interface NodeDef {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Attributes in the order given (keep the order stable for byte-identical output). */
  attributes?: Array<[string, AttributeValue]>;
}

/** A dimension: a fixed size or a symbolic name such as 'N'. */
export type Dim = number | string;

export interface ValueInfoDef {
  name: string;
  elemType: DataTypeCode;
  shape: Dim[];
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  initializers: TensorDef[];
  inputs: ValueInfoDef[];
  outputs: ValueInfoDef[];
  docString?: string;
}

export interface ModelDef {
  irVersion: number;
  opsetImports: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphDef;
  metadata?: Array<[string, string]>;
}

function rawData(t: TensorDef): Buffer {
  const n = t.values.length;
  switch (t.dataType) {
    case DataType.FLOAT: {
      const b = Buffer.alloc(n * 4);
      for (let i = 0; i < n; i++) b.writeFloatLE(Number(t.values[i]), i * 4);
      return b;
    }
    case DataType.INT32: {
      const b = Buffer.alloc(n * 4);
      for (let i = 0; i < n; i++) b.writeInt32LE(Number(t.values[i]), i * 4);
      return b;
    }
    case DataType.INT64: {
      const b = Buffer.alloc(n * 8);
      for (let i = 0; i < n; i++) b.writeBigInt64LE(BigInt(t.values[i]), i * 8);
      return b;
    }
  }
}

function encodeTensor(w: Writer, t: TensorDef): void {
  const count = t.dims.reduce((a, d) => a * d, 1);
  if (count !== t.values.length) {
    throw new Error(`tensor ${t.name}: dims ${JSON.stringify(t.dims)} need ${count} values, got ${t.values.length}`);
  }
  // TensorProto: dims=1, data_type=2, name=8, raw_data=9
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, rawData(t));
}

function encodeAttribute(w: Writer, name: string, a: AttributeValue): void {
  // AttributeProto: name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, type=20
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, AttributeType.FLOAT);
      break;
    case 'int':
      w.int(3, a.value);
      w.int(20, AttributeType.INT);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, AttributeType.STRING);
      break;
    case 'tensor':
      w.message(5, (m) => encodeTensor(m, a.value));
      w.int(20, AttributeType.TENSOR);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      w.int(20, AttributeType.FLOATS);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      w.int(20, AttributeType.INTS);
      break;
  }
}

function encodeNode(w: Writer, n: NodeDef): void {
  // NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, domain=7
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, value] of n.attributes ?? []) w.message(5, (m) => encodeAttribute(m, name, value));
  if (n.domain) w.string(7, n.domain);
}

function encodeValueInfo(w: Writer, v: ValueInfoDef): void {
  // ValueInfoProto: name=1, type=2. TypeProto: tensor_type=1. TypeProto.Tensor: elem_type=1, shape=2.
  // TensorShapeProto: dim=1. Dimension: dim_value=1, dim_param=2.
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function encodeGraph(w: Writer, g: GraphDef): void {
  // GraphProto: node=1, name=2, initializer=5, doc_string=10, input=11, output=12
  for (const n of g.nodes) w.message(1, (m) => encodeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => encodeTensor(m, t));
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.message(11, (m) => encodeValueInfo(m, i));
  for (const o of g.outputs) w.message(12, (m) => encodeValueInfo(m, o));
}

/** Serialise a ModelProto. */
export function encodeModel(model: ModelDef): Buffer {
  // ModelProto: ir_version=1, producer_name=2, producer_version=3, model_version=5, doc_string=6,
  // graph=7, opset_import=8, metadata_props=14 (StringStringEntryProto: key=1, value=2)
  const w = new Writer();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.modelVersion !== undefined) w.int(5, model.modelVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (m) => encodeGraph(m, model.graph));
  for (const op of model.opsetImports) {
    w.message(8, (m) => {
      if (op.domain) m.string(1, op.domain);
      m.int(2, op.version);
    });
  }
  for (const [key, value] of model.metadata ?? []) {
    w.message(14, (m) => {
      m.string(1, key);
      m.string(2, value);
    });
  }
  return w.finish();
}

// ---- a tiny graph builder -----------------------------------------------------------------------

/**
 * Builds a graph with deterministic, readable value names: each op's output is `<prefix>/<n>_<op>`
 * unless a name is given. Constants become initializers.
 */
export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  private counter = 0;
  private readonly constNames = new Map<string, string>();

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** A float32 constant. Identical constants (same dims and values) are shared. */
  constFloat(values: ArrayLike<number>, dims: number[], hint = 'c'): string {
    return this.constant(values, dims, DataType.FLOAT, hint);
  }

  constInt64(values: number[], dims: number[] = [values.length], hint = 'i'): string {
    return this.constant(values, dims, DataType.INT64, hint);
  }

  private constant(values: ArrayLike<number>, dims: number[], dataType: DataTypeCode, hint: string): string {
    const f32 = dataType === DataType.FLOAT ? Float32Array.from(values as ArrayLike<number>) : null;
    const key = `${dataType}|${dims.join(',')}|${f32 ? Buffer.from(f32.buffer).toString('base64') : Array.from(values).join(',')}`;
    const known = this.constNames.get(key);
    if (known) return known;
    const name = this.fresh(hint);
    this.initializers.push({ name, dims, dataType, values: f32 ?? Array.from(values) });
    this.constNames.set(key, name);
    return name;
  }

  /** Add a node with one output; returns the output name. */
  op(opType: string, inputs: string[], attributes: Array<[string, AttributeValue]> = [], name?: string): string {
    const out = name ?? this.fresh(opType);
    this.nodes.push({ opType, inputs, outputs: [out], name: out, attributes });
    return out;
  }
}

export const attr = {
  int: (value: number): AttributeValue => ({ kind: 'int', value }),
  ints: (value: number[]): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: number[]): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
};
