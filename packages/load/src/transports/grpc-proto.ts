import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import type * as ProtoLoader from '@grpc/proto-loader';

/**
 * `.proto` loading for gRPC runs (quick mode's fast path and `ctx.grpc`): one parse per file per
 * thread, methods looked up by `pkg.Service/Method`, JSON messages checked against their type
 * and serialised once. `@grpc/proto-loader` is loaded on first use: most runs never speak gRPC.
 */

const require = createRequire(import.meta.url);
let loaderModule: typeof ProtoLoader | null = null;
function loader(): typeof ProtoLoader {
  return (loaderModule ??= require('@grpc/proto-loader') as typeof ProtoLoader);
}

/** How messages are turned into JS objects: field names as in the file, 64-bit ints and enums as strings. */
export const PROTO_LOAD_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** One RPC of a loaded `.proto`. */
export interface GrpcMethod {
  /** `pkg.Service/Method`, as users name it. */
  name: string;
  /** `/pkg.Service/Method`, the HTTP/2 `:path`. */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  /** Message type names, for error messages. */
  requestType: string;
  responseType: string;
  /** The raw proto-loader definition (what `@grpc/grpc-js` clients are made from). */
  definition: ProtoLoader.MethodDefinition<object, object>;
}

/** A parsed `.proto` file: its services and their methods. */
export interface LoadedProto {
  file: string;
  packageDefinition: ProtoLoader.PackageDefinition;
  /** Fully qualified service name → method name → method. */
  services: Map<string, Map<string, GrpcMethod>>;
}

const cache = new Map<string, LoadedProto>();
const CACHE_MAX = 64;

function isService(entry: unknown): entry is ProtoLoader.ServiceDefinition {
  // Message and enum entries carry a `format`; services are plain maps of method definitions.
  return typeof entry === 'object' && entry !== null && !('format' in entry);
}

/**
 * Parses a `.proto` file (with its imports, looked up next to it and in `includeDirs`).
 * Throws REDLINE_ERR_BAD_PROTO for a file that cannot be read, does not parse, or defines no service.
 */
export function loadProto(file: string, includeDirs: readonly string[] = []): LoadedProto {
  const path = resolve(file);
  const key = `${path}|${includeDirs.join('|')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
  } catch {
    throw new RedlineError(ErrorCodes.BAD_PROTO, `cannot read .proto file ${path}`, { details: { file: path } });
  }
  let packageDefinition: ProtoLoader.PackageDefinition;
  try {
    packageDefinition = loader().loadSync(path, { ...PROTO_LOAD_OPTIONS, includeDirs: [dirname(path), ...includeDirs.map((d) => resolve(d))] });
  } catch (err) {
    // protobufjs names the token and line: "illegal token 'x' (/abs/x.proto, line 3)".
    const why = ((err as Error)?.message ?? String(err)).replace(/\s+/g, ' ');
    throw new RedlineError(ErrorCodes.BAD_PROTO, `malformed .proto file ${path}: ${why}`, { cause: err, details: { file: path } });
  }
  const services = new Map<string, Map<string, GrpcMethod>>();
  for (const [serviceName, entry] of Object.entries(packageDefinition)) {
    if (!isService(entry)) continue;
    const methods = new Map<string, GrpcMethod>();
    for (const [methodName, def] of Object.entries(entry)) {
      const d = def as ProtoLoader.MethodDefinition<object, object>;
      methods.set(methodName, {
        name: `${serviceName}/${methodName}`,
        path: d.path,
        requestStream: d.requestStream,
        responseStream: d.responseStream,
        requestType: typeName(d.requestType),
        responseType: typeName(d.responseType),
        definition: d,
      });
    }
    services.set(serviceName, methods);
  }
  if (services.size === 0) throw new RedlineError(ErrorCodes.BAD_PROTO, `.proto file ${path} defines no service`, { details: { file: path } });
  const loaded: LoadedProto = { file: path, packageDefinition, services };
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, loaded);
  return loaded;
}

function typeName(t: ProtoLoader.MessageTypeDefinition<object, object>): string {
  return (t.type as { name?: string }).name ?? '(message)';
}

/**
 * Finds `pkg.Service/Method` (a leading `/` is accepted) in a loaded file. Throws
 * REDLINE_ERR_UNKNOWN_RPC naming what the file does define.
 */
export function findMethod(proto: LoadedProto, name: string): GrpcMethod {
  const m = /^\/?([A-Za-z_][\w.]*)\/([A-Za-z_]\w*)$/.exec(name.trim());
  if (!m) {
    throw new RedlineError(ErrorCodes.UNKNOWN_RPC, `invalid gRPC method "${name}": expected package.Service/Method, such as helloworld.Greeter/SayHello`, { details: { method: name } });
  }
  const service = proto.services.get(m[1]!);
  if (!service) {
    throw new RedlineError(ErrorCodes.UNKNOWN_RPC, `unknown gRPC service "${m[1]}" in ${proto.file}: it defines ${[...proto.services.keys()].join(', ')}`, { details: { method: name, file: proto.file } });
  }
  const method = service.get(m[2]!);
  if (!method) {
    throw new RedlineError(ErrorCodes.UNKNOWN_RPC, `unknown method "${m[2]}" of gRPC service ${m[1]} in ${proto.file}: it has ${[...service.keys()].join(', ')}`, { details: { method: name, file: proto.file } });
  }
  return method;
}

interface FieldDescriptor {
  name: string;
  jsonName?: string;
}

/**
 * Serialises a JSON message for `method`'s request type. Unknown field names are an error
 * (protobufjs would drop them silently, and the run would send something else than intended):
 * REDLINE_ERR_BAD_PROTO.
 */
export function encodeRequest(method: GrpcMethod, message: unknown): Buffer {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new RedlineError(ErrorCodes.BAD_PROTO, `gRPC message for ${method.name} must be a JSON object (a ${method.requestType}), got ${Array.isArray(message) ? 'an array' : typeof message}`);
  }
  const fields = ((method.definition.requestType.type as { field?: FieldDescriptor[] }).field ?? []);
  const known = new Set<string>();
  for (const f of fields) {
    known.add(f.name);
    if (f.jsonName) known.add(f.jsonName);
  }
  for (const k of Object.keys(message)) {
    if (!known.has(k)) {
      throw new RedlineError(ErrorCodes.BAD_PROTO, `gRPC message for ${method.name}: ${method.requestType} has no field "${k}" (fields: ${fields.map((f) => f.name).join(', ') || 'none'})`);
    }
  }
  try {
    return method.definition.requestSerialize(message);
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_PROTO, `gRPC message for ${method.name} does not fit ${method.requestType}: ${(err as Error).message}`, { cause: err });
  }
}

/** A message with gRPC's 5-byte prefix (uncompressed flag, big-endian length), as sent on the wire. */
export function frameMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

export { GRPC_STATUS_NAMES, grpcErrorKind, grpcStatusName } from './grpc-status.js';
