// The past key/value tensors of a running batch ([batch, heads, past, head_dim] per layer and
// kind), with the row and column surgery continuous batching needs: keep rows, concat rows,
// left-pad columns and drop padding columns no row uses any more.

export class KvCache {
  private constructor(
    /** key, value, key, value, ... in layer order (the order of the past_key_values inputs). */
    readonly tensors: Float32Array[],
    readonly batch: number,
    readonly heads: number,
    readonly length: number,
    readonly headDim: number,
  ) {}

  static empty(layers: number, batch: number, heads: number, headDim: number): KvCache {
    return new KvCache(
      Array.from({ length: layers * 2 }, () => new Float32Array(0)),
      batch,
      heads,
      0,
      headDim,
    );
  }

  static fromTensors(tensors: Float32Array[], batch: number, heads: number, length: number, headDim: number): KvCache {
    return new KvCache(tensors, batch, heads, length, headDim);
  }

  get dims(): number[] {
    return [this.batch, this.heads, this.length, this.headDim];
  }

  private get rowSize(): number {
    return this.heads * this.length * this.headDim;
  }

  /** A cache holding only the given rows, in the given order. */
  selectRows(rows: number[]): KvCache {
    const size = this.rowSize;
    const tensors = this.tensors.map((t) => {
      const out = new Float32Array(rows.length * size);
      rows.forEach((row, i) => {
        out.set(t.subarray(row * size, (row + 1) * size), i * size);
      });
      return out;
    });
    return new KvCache(tensors, rows.length, this.heads, this.length, this.headDim);
  }

  /** Rows of `other` appended after this cache's rows; both must have the same length. */
  concatRows(other: KvCache): KvCache {
    if (other.length !== this.length) throw new Error('concatRows needs equal past lengths');
    const tensors = this.tensors.map((t, k) => {
      const out = new Float32Array(t.length + other.tensors[k].length);
      out.set(t);
      out.set(other.tensors[k], t.length);
      return out;
    });
    return new KvCache(tensors, this.batch + other.batch, this.heads, this.length, this.headDim);
  }

  /** Changes the past length: `delta` > 0 adds zero columns on the left, < 0 drops leading columns. */
  shiftLeftEdge(delta: number): KvCache {
    if (delta === 0) return this;
    const length = this.length + delta;
    const d = this.headDim;
    const blocks = this.batch * this.heads;
    const tensors = this.tensors.map((t) => {
      const out = new Float32Array(blocks * length * d);
      for (let block = 0; block < blocks; block++) {
        const src = block * this.length * d;
        const dst = block * length * d;
        if (delta > 0) out.set(t.subarray(src, src + this.length * d), dst + delta * d);
        else out.set(t.subarray(src - delta * d, src + this.length * d), dst);
      }
      return out;
    });
    return new KvCache(tensors, this.batch, this.heads, length, this.headDim);
  }
}
