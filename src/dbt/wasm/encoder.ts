/**
 * A small WebAssembly binary encoder of our own (ARCHITECTURE.md §4, back end): a growable byte
 * buffer with LEB128, the opcodes the translator emits, and a module builder that writes the type,
 * import, function, export and code sections. Generated modules import the one shared memory as
 * `env.mem` and the JS helpers as `env.<name>`; every function of a module has its own locals and
 * is exported by name, so one compile produces many translated blocks (§4: modules cost about
 * 0.5 ms each whatever their size). 64-bit constants are encoded from two int32 halves, so no
 * BigInt is needed anywhere in the encoder.
 */

// ---- value types and opcodes (the subset we emit) ------------------------------------------------

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const VOID = 0x40;

export const OP = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  br: 0x0c, brIf: 0x0d, brTable: 0x0e, return: 0x0f, call: 0x10, drop: 0x1a, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, i32Load8u: 0x2d, i32Load16u: 0x2f, i64Load8u: 0x31, i64Load16u: 0x33,
  i64Load32u: 0x35, i32Store: 0x36, i64Store: 0x37, i32Store8: 0x3a, i32Store16: 0x3b,
  i64Store8: 0x3c, i64Store16: 0x3d, i64Store32: 0x3e,
  i32Const: 0x41, i64Const: 0x42,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i32LtS: 0x48, i32LtU: 0x49, i32GtS: 0x4a, i32GtU: 0x4b,
  i32LeS: 0x4c, i32LeU: 0x4d, i32GeS: 0x4e, i32GeU: 0x4f,
  i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64LtU: 0x54, i64GtS: 0x55, i64GtU: 0x56,
  i64LeS: 0x57, i64LeU: 0x58, i64GeS: 0x59, i64GeU: 0x5a,
  i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74,
  i32ShrS: 0x75, i32ShrU: 0x76,
  i64Add: 0x7c, i64Sub: 0x7d, i64Mul: 0x7e, i64DivS: 0x7f, i64DivU: 0x80, i64RemS: 0x81, i64RemU: 0x82, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86,
  i64ShrS: 0x87, i64ShrU: 0x88,
  i32WrapI64: 0xa7, i64ExtendI32S: 0xac, i64ExtendI32U: 0xad,
  i32Extend8S: 0xc0, i32Extend16S: 0xc1, i64Extend8S: 0xc2, i64Extend16S: 0xc3, i64Extend32S: 0xc4,
} as const;

/** A growable byte buffer with the LEB128 encodings wasm uses. */
export class Bytes {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  u8(b: number): this {
    this.room(1);
    this.buf[this.len++] = b & 0xff;
    return this;
  }
  bytes(b: ArrayLike<number>): this {
    this.room(b.length);
    for (let i = 0; i < b.length; i++) this.buf[this.len++] = b[i] & 0xff;
    return this;
  }
  /** Unsigned LEB128 of a value 0 .. 2^32-1. */
  uleb(v: number): this {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.u8(b);
    } while (v !== 0);
    return this;
  }
  /** Signed LEB128 of an int32. */
  sleb32(v: number): this {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.u8(b);
        return this;
      }
      this.u8(b | 0x80);
    }
  }
  /** Signed LEB128 of the 64-bit value hi:lo (two int32 halves). */
  sleb64(lo: number, hi: number): this {
    lo >>>= 0;
    hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      // arithmetic shift right by 7 of the 64-bit pair
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>= 7;
      const signBit = (b & 0x40) !== 0;
      if ((hi === 0 && lo === 0 && !signBit) || (hi === -1 && lo === 0xffffffff && signBit)) {
        this.u8(b);
        return this;
      }
      this.u8(b | 0x80);
    }
  }
  str(s: string): this {
    this.uleb(s.length);
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  append(o: Bytes): this {
    this.room(o.len);
    this.buf.set(o.buf.subarray(0, o.len), this.len);
    this.len += o.len;
    return this;
  }
  result(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
}

/** Function body under construction: locals by type, then the instruction bytes. */
export class FuncBody {
  readonly code = new Bytes();
  /** Types of the locals after the parameters, in index order. */
  readonly locals: number[] = [];

  constructor(readonly paramCount: number) {}

  /** Adds a local of type t, returns its index. */
  local(t: number): number {
    this.locals.push(t);
    return this.paramCount + this.locals.length - 1;
  }
  op(o: number): this {
    this.code.u8(o);
    return this;
  }
  i32(v: number): this {
    this.code.u8(OP.i32Const).sleb32(v);
    return this;
  }
  i64(lo: number, hi: number): this {
    this.code.u8(OP.i64Const).sleb64(lo, hi);
    return this;
  }
  get(l: number): this {
    this.code.u8(OP.localGet).uleb(l);
    return this;
  }
  set(l: number): this {
    this.code.u8(OP.localSet).uleb(l);
    return this;
  }
  tee(l: number): this {
    this.code.u8(OP.localTee).uleb(l);
    return this;
  }
  call(f: number): this {
    this.code.u8(OP.call).uleb(f);
    return this;
  }
  /** Tail call through table 0 to a function of type index `type` (callee index on the stack). */
  returnCallIndirect(type: number): this {
    this.code.u8(0x13).uleb(type).u8(0);
    return this;
  }
  /** A load or store with alignment hint `align` (log2) and constant offset. */
  mem(o: number, align: number, offset: number): this {
    this.code.u8(o).uleb(align).uleb(offset);
    return this;
  }
  /** block/loop/if with a result type (VOID for none). */
  begin(o: number, type: number): this {
    this.code.u8(o).u8(type);
    return this;
  }
  br(o: number, depth: number): this {
    this.code.u8(o).uleb(depth);
    return this;
  }
  end(): this {
    this.code.u8(OP.end);
    return this;
  }

  /** The body as it goes into the code section: locals vector (run-length grouped) and code. */
  encode(): Bytes {
    const groups: [number, number][] = [];
    for (const t of this.locals) {
      const g = groups[groups.length - 1];
      if (g !== undefined && g[1] === t) g[0]++;
      else groups.push([1, t]);
    }
    const body = new Bytes();
    body.uleb(groups.length);
    for (const [n, t] of groups) body.uleb(n).u8(t);
    body.append(this.code);
    body.u8(OP.end);
    const out = new Bytes();
    out.uleb(body.len).append(body);
    return out;
  }
}

interface FuncType {
  params: number[];
  results: number[];
}

/** Builds one module: imported memory and functions, defined functions, exports. */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly imports: { name: string; type: number }[] = [];
  private readonly funcs: { type: number; body: FuncBody; name: string }[] = [];
  private memoryPages = -1;
  private memoryMax = -1;
  private tableMin = -1;

  /** Index of the type (params) -> (results), added once. */
  type(params: number[], results: number[]): number {
    const key = `${params.join(',')}:${results.join(',')}`;
    for (let i = 0; i < this.types.length; i++) {
      const t = this.types[i];
      if (`${t.params.join(',')}:${t.results.join(',')}` === key) return i;
    }
    this.types.push({ params, results });
    return this.types.length - 1;
  }

  /** Imports `env.mem` with the given page counts (must match the memory passed at instantiation). */
  importMemory(initial: number, maximum: number): void {
    this.memoryPages = initial;
    this.memoryMax = maximum;
  }

  /** Imports `env.tbl`, a funcref table of at least `min` elements (table 0). */
  importTable(min: number): void {
    this.tableMin = min;
  }

  /** Imports the function `env.<name>`; returns its function index. Imports come before functions. */
  importFunc(name: string, params: number[], results: number[]): number {
    if (this.funcs.length > 0) throw new Error('imports must be added before functions');
    this.imports.push({ name, type: this.type(params, results) });
    return this.imports.length - 1;
  }

  /** Adds an exported function; fill its body afterwards. Returns the body and its index. */
  func(name: string, params: number[], results: number[]): { body: FuncBody; index: number } {
    const body = new FuncBody(params.length);
    this.funcs.push({ type: this.type(params, results), body, name });
    return { body, index: this.imports.length + this.funcs.length - 1 };
  }

  encode(): Uint8Array<ArrayBuffer> {
    const out = new Bytes();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, fill: (b: Bytes) => void): void => {
      const b = new Bytes();
      fill(b);
      out.u8(id).uleb(b.len).append(b);
    };
    section(1, (b) => {
      b.uleb(this.types.length);
      for (const t of this.types) {
        b.u8(0x60).uleb(t.params.length).bytes(t.params).uleb(t.results.length).bytes(t.results);
      }
    });
    const nImports = this.imports.length + (this.memoryPages >= 0 ? 1 : 0) + (this.tableMin >= 0 ? 1 : 0);
    if (nImports > 0) {
      section(2, (b) => {
        b.uleb(nImports);
        if (this.memoryPages >= 0) {
          b.str('env').str('mem').u8(0x02);
          if (this.memoryMax >= 0) b.u8(1).uleb(this.memoryPages).uleb(this.memoryMax);
          else b.u8(0).uleb(this.memoryPages);
        }
        if (this.tableMin >= 0) b.str('env').str('tbl').u8(0x01).u8(0x70).u8(0).uleb(this.tableMin);
        for (const im of this.imports) b.str('env').str(im.name).u8(0x00).uleb(im.type);
      });
    }
    section(3, (b) => {
      b.uleb(this.funcs.length);
      for (const f of this.funcs) b.uleb(f.type);
    });
    section(7, (b) => {
      b.uleb(this.funcs.length);
      this.funcs.forEach((f, i) => b.str(f.name).u8(0x00).uleb(this.imports.length + i));
    });
    section(10, (b) => {
      b.uleb(this.funcs.length);
      for (const f of this.funcs) b.append(f.body.encode());
    });
    return out.result();
  }
}
