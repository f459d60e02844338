/** gRPC status names by code (grpc/doc/statuscodes.md). */
export const GRPC_STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The name of a gRPC status code (`UNKNOWN_<n>` past the table). */
export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? `UNKNOWN_${code}`;
}

/** The `errorsByKind` key of a non-OK gRPC status: `grpc_` and the lower-cased name (`grpc_not_found`). */
export function grpcErrorKind(code: number): string {
  return `grpc_${grpcStatusName(code).toLowerCase()}`;
}
