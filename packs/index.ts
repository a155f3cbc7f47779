// The source packs Tributary can demo, by name.
import { TributaryError } from '../errors/index.ts';
import { learningPack } from './learning/index.ts';
import type { SourcePack } from './pack.ts';
import { postbookPack } from './postbook/index.ts';

export { databaseSource, documentFieldsOf } from './pack.ts';
export type {
  AbMetric,
  FactSource,
  PackClients,
  PackDatabase,
  PackMart,
  PackMartContext,
  PackWriteback,
  PackWritebackContext,
  MongoCollectionSpec,
  PackMapping,
  SimulationOptions,
  SimulationSummary,
  SourcePack,
} from './pack.ts';

export const packs: Readonly<Record<string, SourcePack>> = {
  [learningPack.name]: learningPack,
  [postbookPack.name]: postbookPack,
};

export function getPack(name: string): SourcePack {
  const pack = packs[name];
  if (!pack)
    throw new TributaryError(`unknown source pack "${name}"; known packs: ${Object.keys(packs).join(', ')}`);
  return pack;
}
