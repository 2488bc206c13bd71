// The subset of cli-progress 3.12 the load generator uses (the package ships no types).
export interface Options {
  format?: string;
  stream?: unknown;
  hideCursor?: boolean;
  clearOnComplete?: boolean;
  stopOnComplete?: boolean;
  barsize?: number;
  fps?: number;
  noTTYOutput?: boolean;
}
export class SingleBar {
  constructor(options: Options, preset?: unknown);
  start(total: number, startValue: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  setTotal(total: number): void;
  stop(): void;
}
export const Presets: { shades_classic: unknown; legacy: unknown; rect: unknown };
declare const _default: { SingleBar: typeof SingleBar; Presets: typeof Presets };
export default _default;
