// The typed feature registry: what a pack declares (features over facts within trailing windows,
// point-in-time attributes of its dimensions, ratios between features, labels), never SQL text.
// The engine (sql.ts) turns a declaration into ClickHouse SQL.
import { createHash } from 'node:crypto';
import { TributaryError } from '../errors/index.ts';

/** What a feature describes: a user, or a piece of content (a lesson, a paragraph, a word). */
export type Entity = 'user' | 'content';
export const ENTITIES: readonly Entity[] = ['user', 'content'];

/** Value types of the catalogue; each has one ClickHouse type and one Arrow type. */
export type FeatureType = 'int64' | 'float64' | 'string';

/** Trailing days before the timestamp, optionally ending `offsetDays` before it; or all history. */
export type Window = { days: number; offsetDays?: number } | 'all';

export type ActivityFilter = {
  eventTypes?: readonly string[];
  contentTypes?: readonly string[];
  completion?: boolean;
  /** Only rows with a score (exercise answers). */
  scored?: boolean;
  /** Only scored rows whose score reaches `passRatio` of the maximum. */
  passRatio?: number;
};

export type ActivityMeasure =
  | { fn: 'count' }
  | { fn: 'activeDays' }
  | { fn: 'distinct'; column: 'session_id' | 'content_id' | 'user_id' }
  | { fn: 'sum'; column: 'duration_s' | 'value' }
  | { fn: 'avg' | 'max'; column: 'score_ratio' | 'duration_s' }
  /** Whole days from the newest matching fact before the timestamp to the timestamp. */
  | { fn: 'daysSinceLast' }
  /** Consecutive UTC days with activity ending on the timestamp's day (or the day before). */
  | { fn: 'currentStreak' };

interface Base {
  name: string;
  entity: Entity;
  description: string;
}

export interface ActivityFeature extends Base {
  kind: 'activity';
  window: Window;
  measure: ActivityMeasure;
  where?: ActivityFilter;
}

export interface RatingFeature extends Base {
  kind: 'rating';
  window: Window;
  measure: 'count' | 'avg';
}

/** The variant of an experiment the entity was first exposed to before the timestamp. */
export interface ExposureFeature extends Base {
  kind: 'exposure';
  experiment: string;
}

/** Whole days since the entity's first appearance (a user's signup, a content's creation). */
export interface TenureFeature extends Base {
  kind: 'tenure';
}

/** A column of a dimension source as it was at the timestamp (from the source's change history). */
export interface AttributeFeature extends Base {
  kind: 'attribute';
  source: string;
  column: string;
  /** A field of a JSON text column (`device_info.platform`). */
  jsonField?: string;
  type: FeatureType;
}

/** numerator / denominator of two other features; null when the denominator is 0 or null. */
export interface RatioFeature extends Base {
  kind: 'ratio';
  numerator: string;
  denominator: string;
  /** Multiplies the denominator (a trend: last 7 days against the 21 before, scaled by 7/21). */
  denominatorScale?: number;
  /**
   * A share, within [0, 1]: the numerator's facts belong to the denominator's (a completion to its
   * start), so one whose partner lies outside the window (started 29 days ago, completed yesterday)
   * counts in the denominator too: numerator / max(denominator, numerator).
   */
  share?: boolean;
}

export type FeatureDefinition =
  ActivityFeature | RatingFeature | ExposureFeature | TenureFeature | AttributeFeature | RatioFeature;

/** A change-tracked dimension source: a mirrored table whose versions take effect at `validFrom`. */
export interface AttributeSource {
  name: string;
  /** The source table (the mirror is `raw.<source name>_<table>`). */
  table: string;
  /** The column naming the entity. */
  entityColumn: string;
  /** The source's own time of each version (updated_at): a version is known from then on. */
  validFrom: string;
}

/** An outcome after the timestamp: no activity (of the user, or on the content) within `days` after it. */
export interface LabelDefinition {
  name: string;
  description: string;
  kind: 'noActivityWithin';
  days: number;
}

/** One entity's features of a pack: a pack declares a registry per entity it describes. */
export interface FeatureRegistry {
  pack: string;
  entity: Entity;
  attributeSources: AttributeSource[];
  features: FeatureDefinition[];
  /** Named subsets (`--set NAME`). */
  sets: Record<string, string[]>;
  labels: LabelDefinition[];
}

export class FeatureDefinitionError extends TributaryError {}

/** The type a feature's values have (ratios and averages are floats, counts integers). */
export function featureType(feature: FeatureDefinition): FeatureType {
  switch (feature.kind) {
    case 'activity':
      return feature.measure.fn === 'avg' || feature.measure.fn === 'max' ? 'float64' : 'int64';
    case 'rating':
      return feature.measure === 'avg' ? 'float64' : 'int64';
    case 'exposure':
      return 'string';
    case 'tenure':
      return 'int64';
    case 'attribute':
      return feature.type;
    case 'ratio':
      return 'float64';
  }
}

/** Whether a feature can be null: counts and sums are 0 without facts; the rest have no value then. */
export function featureNullable(feature: FeatureDefinition): boolean {
  if (feature.kind === 'activity')
    return !['count', 'activeDays', 'distinct', 'sum', 'currentStreak'].includes(feature.measure.fn);
  if (feature.kind === 'rating') return feature.measure === 'avg';
  return feature.kind !== 'tenure';
}

export function windowLabel(feature: FeatureDefinition): string {
  if (feature.kind !== 'activity' && feature.kind !== 'rating') return '';
  const window = feature.window;
  if (window === 'all') return feature.entity === 'user' ? 'since signup' : 'since creation';
  return window.offsetDays ? `${window.days}d ending ${window.offsetDays}d before` : `${window.days}d`;
}

/** Checks a registry once: unique snake_case names, known references, sets naming known features. */
export function validateRegistry(registry: FeatureRegistry): FeatureRegistry {
  const names = new Set<string>();
  for (const feature of registry.features) {
    if (!/^[a-z][a-z0-9_]*$/.test(feature.name))
      throw new FeatureDefinitionError(`feature name "${feature.name}" must be snake_case`);
    if (names.has(feature.name))
      throw new FeatureDefinitionError(`feature "${feature.name}" is declared twice`);
    names.add(feature.name);
    if (feature.kind === 'ratio')
      for (const ref of [feature.numerator, feature.denominator]) {
        if (!names.has(ref))
          throw new FeatureDefinitionError(
            `ratio "${feature.name}" refers to "${ref}", which must be declared before it`,
          );
        if (feature.share && feature.denominatorScale !== undefined)
          throw new FeatureDefinitionError(`share "${feature.name}" cannot scale its denominator`);
        if (registry.features.find((other) => other.name === ref)?.kind === 'ratio')
          throw new FeatureDefinitionError(
            `ratio "${feature.name}" divides ratio "${ref}"; divide its parts`,
          );
      }
    if (feature.entity !== registry.entity)
      throw new FeatureDefinitionError(
        `feature "${feature.name}" describes a ${feature.entity} in the ${registry.entity} registry`,
      );
    // Users are exposed to experiments' variants; content is not.
    if (feature.kind === 'exposure' && registry.entity !== 'user')
      throw new FeatureDefinitionError(`exposure "${feature.name}" must describe a user`);
    if (
      feature.kind === 'attribute' &&
      !registry.attributeSources.some((source) => source.name === feature.source)
    )
      throw new FeatureDefinitionError(
        `attribute "${feature.name}" names unknown source "${feature.source}"`,
      );
  }
  for (const [set, members] of Object.entries(registry.sets))
    for (const member of members)
      if (!names.has(member))
        throw new FeatureDefinitionError(`feature set "${set}" names unknown feature "${member}"`);
  for (const label of registry.labels)
    if (names.has(label.name)) throw new FeatureDefinitionError(`label "${label.name}" shadows a feature`);
  return registry;
}

/** The declarations' digest: changes whenever a feature's definition does (the files' metadata). */
export function registryVersion(registry: FeatureRegistry): string {
  const digest = createHash('sha256').update(
    JSON.stringify([registry.attributeSources, registry.features, registry.labels]),
  );
  return digest.digest('hex').slice(0, 16);
}
