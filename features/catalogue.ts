// The catalogue: what `features list` prints and what every exported file's schema is. The Arrow
// schema (names, types, nullability) is derived here and nowhere else.
import { Field, Float64, Int64, Schema, TimestampMillisecond, Utf8, type DataType } from 'apache-arrow';
import { TributaryError } from '../errors/index.ts';
import {
  featureNullable,
  featureType,
  windowLabel,
  type FeatureDefinition,
  type FeatureRegistry,
  type FeatureType,
  type LabelDefinition,
} from './registry.ts';

export interface CatalogueEntry {
  name: string;
  entity: string;
  type: FeatureType;
  nullable: boolean;
  window: string;
  description: string;
  role: 'feature' | 'label';
}

export class FeatureSelectionError extends TributaryError {}

export function catalogue(registry: FeatureRegistry): CatalogueEntry[] {
  return [
    ...registry.features.map((feature): CatalogueEntry => ({
      name: feature.name,
      entity: feature.entity,
      type: featureType(feature),
      nullable: featureNullable(feature),
      window: windowLabel(feature),
      description: feature.description,
      role: 'feature',
    })),
    ...registry.labels.map((label): CatalogueEntry => ({
      name: `label_${label.name}`,
      entity: registry.entity,
      type: 'int64',
      nullable: false,
      window: `${label.days}d after`,
      description: label.description,
      role: 'label',
    })),
  ];
}

export interface Selection {
  features: FeatureDefinition[];
  labels: LabelDefinition[];
  /** `all`, a set's name, or `custom`. */
  setName: string;
}

/** Resolves `--features a,b` or `--set NAME` (or everything) and `--label …` against the registry. */
export function selectFeatures(
  registry: FeatureRegistry,
  request: { features?: string[]; set?: string; labels?: string[] },
): Selection {
  let names: string[];
  let setName = 'all';
  if (request.features && request.set) throw new FeatureSelectionError('give --features or --set, not both');
  if (request.set) {
    const members = registry.sets[request.set];
    if (!members)
      throw new FeatureSelectionError(
        `pack ${registry.pack} has no feature set "${request.set}"; its sets: ${Object.keys(registry.sets).join(', ')}`,
      );
    names = members;
    setName = request.set;
  } else if (request.features) {
    names = request.features;
    setName = 'custom';
  } else names = registry.features.map((feature) => feature.name);
  const byName = new Map(registry.features.map((feature) => [feature.name, feature]));
  const unknown = names.filter((name) => !byName.has(name));
  if (unknown.length > 0)
    throw new FeatureSelectionError(
      `unknown feature${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: \`tributary features list --pack ${registry.pack}\` shows the catalogue`,
    );
  if (new Set(names).size !== names.length) throw new FeatureSelectionError('a feature is named twice');
  const labels = (request.labels ?? []).map((name) => {
    const label = registry.labels.find((candidate) => candidate.name === name);
    if (!label)
      throw new FeatureSelectionError(
        `unknown label ${name}; pack ${registry.pack} has ${registry.labels.map((candidate) => candidate.name).join(', ') || 'none'}`,
      );
    return label;
  });
  return { features: names.map((name) => byName.get(name) as FeatureDefinition), labels, setName };
}

function arrowType(type: FeatureType): DataType {
  return type === 'int64' ? new Int64() : type === 'float64' ? new Float64() : new Utf8();
}

/** The exported files' schema: the entity id, the timestamp, the features, then the labels. */
export function arrowSchema(
  registry: FeatureRegistry,
  selection: Selection,
  metadata: Map<string, string> = new Map(),
): Schema {
  return new Schema(
    [
      new Field(`${registry.entity}_id`, new Utf8(), false),
      new Field('timestamp', new TimestampMillisecond('UTC'), false),
      ...selection.features.map(
        (feature) => new Field(feature.name, arrowType(featureType(feature)), featureNullable(feature)),
      ),
      ...selection.labels.map((label) => new Field(`label_${label.name}`, new Int64(), false)),
    ],
    metadata,
  );
}
