/** The slice of `@opentelemetry/api` the cache uses (kept structural so it is never a dependency). */
interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  recordException(err: unknown): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface OtelTracer {
  startSpan(name: string, options?: { attributes?: Record<string, string | number | boolean> }): OtelSpan;
}
interface OtelApi {
  trace: { getTracer(name: string, version?: string): OtelTracer };
}

/** Starts spans when `@opentelemetry/api` is importable; otherwise every call is a no-op. */
export class OptionalTracer {
  #tracer: OtelTracer | undefined;
  /** Resolves once the import attempt finished (spans start only after that). */
  readonly ready: Promise<boolean>;

  constructor(enabled: boolean) {
    this.ready = enabled ? this.#load() : Promise.resolve(false);
  }

  /** True when spans are being produced. */
  get active(): boolean {
    return this.#tracer !== undefined;
  }

  /** Runs `fn` inside a span named `name` when tracing is active; records errors on the span. */
  async span<T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>): Promise<T> {
    const tracer = this.#tracer;
    if (tracer === undefined) return fn();
    const span = tracer.startSpan(name, { attributes });
    try {
      return await fn();
    } catch (err) {
      span.recordException(err);
      span.setStatus({ code: 2, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  }

  async #load(): Promise<boolean> {
    try {
      // A variable specifier keeps TypeScript from requiring the package at compile time.
      const specifier = '@opentelemetry/api';
      const api = (await import(specifier)) as OtelApi;
      this.#tracer = api.trace.getTracer('@redline/cache', '0.1.0');
      return true;
    } catch {
      return false;
    }
  }
}
