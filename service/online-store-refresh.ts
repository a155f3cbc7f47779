// Keeps the online store fresh behind the service's transform loop: a pack's changed vectors are
// written after its facts changed (a transform run by the loop, a scheduled job, another process or
// the CLI: the transform's checkpoint tells), and at least every `refreshSeconds` (trailing windows
// move with the clock). A refresh that fails stays due, and is tried again after a backoff
// (doubling from 5 s to 5 min) rather than every pass: each try redoes warehouse work.
import type { PipelineConfig } from '../config/pipeline.ts';
import { materializePack } from '../features/index.ts';
import { exclusively, packSource } from '../jobs/index.ts';
import { getPack } from '../packs/index.ts';
import { transformVersion } from '../transforms/index.ts';
import type { Warehouse } from '../warehouse/index.ts';
import type { ServiceMetrics } from './metrics.ts';

const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 300_000;

/** What the refresh knows of one pack between passes. */
export interface RefreshState {
  /** When its vectors were last written, if ever (ms), and the facts' transform version then. */
  writtenAt?: number;
  writtenVersion?: string;
  /** Failures in a row, and when the next try may run (ms). */
  failures: number;
  retryAt?: number;
}

/**
 * Whether a pack's vectors are to be written now, its facts being at transform `version` (a pure
 * step: the refresh's whole policy).
 */
export function refreshDue(
  state: RefreshState,
  nowMs: number,
  refreshSeconds: number,
  version: string | undefined,
): boolean {
  if (state.retryAt !== undefined && nowMs < state.retryAt) return false;
  return (
    state.writtenAt === undefined ||
    version !== state.writtenVersion ||
    nowMs - state.writtenAt >= refreshSeconds * 1000
  );
}

/** The state after a try at `nowMs`, of facts at `version`, that succeeded or not. */
export function afterTry(
  state: RefreshState,
  nowMs: number,
  succeeded: boolean,
  version: string | undefined,
): RefreshState {
  if (succeeded)
    return { writtenAt: nowMs, ...(version === undefined ? {} : { writtenVersion: version }), failures: 0 };
  const failures = state.failures + 1;
  return {
    ...state,
    failures,
    retryAt: nowMs + Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS),
  };
}

export class OnlineStoreRefresh {
  private readonly states = new Map<string, RefreshState>();
  private readonly lastFailure = new Map<string, string>();
  /** Reasons an entity was left out, each said once per pack. */
  private readonly said = new Set<string>();

  constructor(
    private readonly config: PipelineConfig,
    private readonly warehouse: Warehouse,
    private readonly metrics: ServiceMetrics,
    private readonly log: (message: string) => void,
  ) {}

  /** After the transform loop's pass over `pack`: writes its changed vectors when due. */
  async after(pack: string): Promise<void> {
    const features = this.config.features;
    if (!features || !getPack(pack).features?.length) return;
    const state = this.states.get(pack) ?? { failures: 0 };
    // Read before the write: a transform finishing meanwhile makes the next pass write again.
    const version = await transformVersion(this.warehouse, pack);
    if (!refreshDue(state, Date.now(), features.refreshSeconds, version)) return;
    try {
      const runs = await exclusively(this.warehouse, () =>
        materializePack(this.warehouse, {
          pack,
          to: features.onlineStore,
          sourceName: packSource(this.config, pack),
        }),
      );
      this.states.set(pack, afterTry(state, Date.now(), true, version));
      this.lastFailure.delete(pack);
      this.metrics.onlineStoreRefreshed(
        pack,
        runs.flatMap((run) =>
          'skipped' in run ? [] : [{ entity: run.entity, vectors: run.result.written }],
        ),
      );
      for (const run of runs) {
        if ('skipped' in run) {
          const key = `${pack}: ${run.skipped}`;
          if (this.said.has(key)) continue;
          this.said.add(key);
          this.log(`online store ${pack}: ${run.entity} vectors left out: ${run.skipped}`);
        } else if (run.result.written > 0 || run.result.removed > 0)
          this.log(
            `online store ${pack}: ${run.result.written} ${run.entity} vectors written, ${run.result.removed} removed (${run.result.mode}) in ${run.result.seconds.toFixed(2)} s`,
          );
      }
    } catch (error) {
      this.states.set(pack, afterTry(state, Date.now(), false, version));
      this.metrics.onlineStoreFailed(pack);
      const message = (error as Error).message;
      if (this.lastFailure.get(pack) !== message) this.log(`online store ${pack}: ${message}`);
      this.lastFailure.set(pack, message);
    }
  }
}
