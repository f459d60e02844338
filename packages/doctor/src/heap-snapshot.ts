import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ErrorCodes, RedlineError } from '@redline/core';

/**
 * A V8 heap snapshot (`.heapsnapshot`, as written by `v8.writeHeapSnapshot` or DevTools) held as flat
 * typed arrays: `nodes` has `nodeFieldCount` numbers per node, `edges` `edgeFieldCount` per edge, as
 * in the file. Node `i`'s edges are `edges[firstEdge[i] .. firstEdge[i + 1])` (offsets into `edges`).
 */
export interface HeapSnapshot {
  nodeCount: number;
  edgeCount: number;
  nodeFieldCount: number;
  edgeFieldCount: number;
  nodes: Uint32Array;
  edges: Uint32Array;
  firstEdge: Uint32Array;
  strings: string[];
  nodeTypes: readonly string[];
  edgeTypes: readonly string[];
  /** Offsets of the fields inside one node / one edge. */
  field: { type: number; name: number; id: number; selfSize: number; edgeCount: number; edgeType: number; edgeName: number; edgeTo: number };
  /** Source positions of closures (0-based line and column), by node index. */
  locations: Map<number, { scriptId: number; line: number; column: number }>;
}

interface SnapshotMeta {
  node_fields: string[];
  node_types: [string[], ...unknown[]];
  edge_fields: string[];
  edge_types: [string[], ...unknown[]];
  location_fields?: string[];
}

/** A growable Uint32Array. */
class U32 {
  data = new Uint32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

type Mode = 'key' | 'value' | 'numbers' | 'strings' | 'skip' | 'meta';

/**
 * Reads the file in chunks and keeps only what the analysis needs: the `snapshot` header (parsed as
 * JSON), the `nodes`, `edges` and `locations` number arrays (straight into typed arrays, never a JS
 * array of numbers) and the `strings` table. Everything else (allocation traces, samples) is skipped.
 * Memory is the typed arrays plus the strings: about a third of what `JSON.parse` of the file needs.
 */
class SnapshotTokenizer {
  private mode: Mode = 'key';
  private depth = 0;
  private inString = false;
  private escape = false;
  private key = '';
  private text = '';
  private num = -1;
  private target: U32 | null = null;
  private started = false;
  readonly arrays = new Map<string, U32>();
  readonly strings: string[] = [];
  meta: string | null = null;

  feed(chunk: string): void {
    let i = 0;
    const n = chunk.length;
    if (!this.started) {
      const brace = chunk.indexOf('{');
      if (brace < 0) return;
      i = brace + 1;
      this.started = true;
    }
    while (i < n) {
      switch (this.mode) {
        case 'key': {
          // Between top-level members: find `"name"` then `:`.
          const c = chunk.charCodeAt(i);
          if (this.inString) {
            if (c === 34) {
              this.inString = false;
              this.key = this.text;
              this.text = '';
            } else this.text += chunk[i];
          } else if (c === 34) {
            this.inString = true;
            this.text = '';
          } else if (c === 58) this.mode = 'value';
          i++;
          break;
        }
        case 'value': {
          const c = chunk.charCodeAt(i);
          if (c === 32 || c === 10 || c === 13 || c === 9) {
            i++;
            break;
          }
          if (this.key === 'snapshot') {
            this.mode = 'meta';
            this.text = '';
            this.depth = 0;
          } else if ((this.key === 'nodes' || this.key === 'edges' || this.key === 'locations') && c === 91) {
            this.target = new U32();
            this.arrays.set(this.key, this.target);
            this.mode = 'numbers';
            this.num = -1;
            i++;
          } else if (this.key === 'strings' && c === 91) {
            this.mode = 'strings';
            this.text = '';
            i++;
          } else {
            this.mode = 'skip';
            this.depth = 0;
          }
          break;
        }
        case 'numbers':
          i = this.readNumbers(chunk, i);
          break;
        case 'strings':
          i = this.readStrings(chunk, i);
          break;
        case 'meta':
        case 'skip':
          i = this.skipValue(chunk, i);
          break;
      }
    }
  }

  private readNumbers(chunk: string, from: number): number {
    const out = this.target!;
    let num = this.num;
    for (let i = from; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c >= 48 && c <= 57) num = (num < 0 ? 0 : num * 10) + (c - 48);
      else {
        if (num >= 0) out.push(num);
        num = -1;
        if (c === 93) {
          this.num = -1;
          this.mode = 'key';
          return i + 1;
        }
      }
    }
    this.num = num;
    return chunk.length;
  }

  private readStrings(chunk: string, from: number): number {
    let start = this.inString ? from : -1;
    for (let i = from; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92) this.escape = true;
        else if (c === 34) {
          const raw = this.text + chunk.slice(start, i);
          this.text = '';
          this.inString = false;
          this.strings.push(raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw);
        }
      } else if (c === 34) {
        this.inString = true;
        start = i + 1;
      } else if (c === 93) {
        this.mode = 'key';
        return i + 1;
      }
    }
    if (this.inString) this.text += chunk.slice(start);
    return chunk.length;
  }

  private skipValue(chunk: string, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 92) this.escape = true;
        else if (c === 34) this.inString = false;
        continue;
      }
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 || c === 93 || (c === 44 && this.depth === 0)) {
        if (c !== 44) this.depth--;
        if (this.depth <= 0) {
          const end = c === 44 ? i : i + 1;
          if (this.mode === 'meta') this.meta = this.text + chunk.slice(from, end);
          this.text = '';
          this.mode = 'key';
          return end;
        }
      }
    }
    if (this.mode === 'meta') this.text += chunk.slice(from);
    return chunk.length;
  }
}

function bad(path: string, why: string): RedlineError {
  return new RedlineError(ErrorCodes.BAD_DATA_FILE, `${path} is not a V8 heap snapshot: ${why}`);
}

/**
 * Reads a `.heapsnapshot` file in chunks of `chunkBytes` (default 1 MiB). Throws REDLINE_ERR_BAD_DATA_FILE when the file is not a heap snapshot
 * (no `snapshot.meta`, arrays whose lengths do not match the header, edges pointing outside `nodes`).
 */
export async function readHeapSnapshot(path: string, opts: { chunkBytes?: number } = {}): Promise<HeapSnapshot> {
  const tok = new SnapshotTokenizer();
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: opts.chunkBytes ?? 1 << 20 })) tok.feed(decoder.write(chunk as Buffer));
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `cannot read heap snapshot ${path}: ${(err as Error).message}`, { cause: err });
  }
  tok.feed(decoder.end());
  return buildSnapshot(path, tok);
}

function buildSnapshot(path: string, tok: SnapshotTokenizer): HeapSnapshot {
  let header: { meta?: SnapshotMeta; node_count?: number; edge_count?: number };
  try {
    header = JSON.parse(tok.meta ?? 'null') as typeof header;
  } catch {
    throw bad(path, 'its "snapshot" header is not JSON');
  }
  const meta = header?.meta;
  if (!meta || !Array.isArray(meta.node_fields) || !Array.isArray(meta.edge_fields)) throw bad(path, 'no snapshot.meta with node_fields and edge_fields');
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const idx = (fields: string[], name: string): number => {
    const k = fields.indexOf(name);
    if (k < 0) throw bad(path, `meta has no "${name}" field`);
    return k;
  };
  const field = {
    type: idx(meta.node_fields, 'type'),
    name: idx(meta.node_fields, 'name'),
    id: idx(meta.node_fields, 'id'),
    selfSize: idx(meta.node_fields, 'self_size'),
    edgeCount: idx(meta.node_fields, 'edge_count'),
    edgeType: idx(meta.edge_fields, 'type'),
    edgeName: idx(meta.edge_fields, 'name_or_index'),
    edgeTo: idx(meta.edge_fields, 'to_node'),
  };
  const nodes = tok.arrays.get('nodes')?.done() ?? new Uint32Array(0);
  const edges = tok.arrays.get('edges')?.done() ?? new Uint32Array(0);
  if (nodes.length === 0 || nodes.length % nf !== 0) throw bad(path, `nodes has ${nodes.length} numbers, not a multiple of ${nf} fields`);
  if (edges.length % ef !== 0) throw bad(path, `edges has ${edges.length} numbers, not a multiple of ${ef} fields`);
  const nodeCount = nodes.length / nf;
  const firstEdge = new Uint32Array(nodeCount + 1);
  let e = 0;
  for (let i = 0; i < nodeCount; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + field.edgeCount]! * ef;
  }
  firstEdge[nodeCount] = e;
  if (e !== edges.length) throw bad(path, `the nodes' edge counts add up to ${e / ef} edges, the file has ${edges.length / ef}`);
  for (let k = field.edgeTo; k < edges.length; k += ef) {
    const to = edges[k]!;
    if (to % nf !== 0 || to >= nodes.length) throw bad(path, `an edge points to ${to}, outside the ${nodeCount} nodes`);
  }
  const locations = new Map<number, { scriptId: number; line: number; column: number }>();
  const loc = tok.arrays.get('locations')?.done();
  const lf = meta.location_fields ?? ['object_index', 'script_id', 'line', 'column'];
  if (loc !== undefined && lf.length === 4) {
    for (let k = 0; k + 3 < loc.length; k += 4) locations.set(loc[k]! / nf, { scriptId: loc[k + 1]!, line: loc[k + 2]!, column: loc[k + 3]! });
  }
  return {
    nodeCount,
    edgeCount: edges.length / ef,
    nodeFieldCount: nf,
    edgeFieldCount: ef,
    nodes,
    edges,
    firstEdge,
    strings: tok.strings,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    field,
    locations,
  };
}
