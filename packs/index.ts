// The source packs Tributary can demo, by name.
import { TributaryError } from '../errors/index.ts';
import { coursesPack } from './courses/index.ts';
import { learningPack } from './learning/index.ts';
import { lingoPack } from './lingo/index.ts';
import type { SourcePack } from './pack.ts';
import { shopPack } from './shop/index.ts';
import { postbookPack } from './postbook/index.ts';

export { databaseSource, documentFieldsOf } from './pack.ts';
export type {
  AbMetric,
  FactSource,
  PackClients,
  PackDatabase,
  PackMart,
  PackMysqlConnections,
  PackMysqlDatabase,
  PackMartContext,
  PackWriteback,
  PackWritebackContext,
  PackSync,
  RunningPackSync,
  MongoCollectionSpec,
  PackMapping,
  SimulationOptions,
  SimulationSummary,
  SourcePack,
} from './pack.ts';

export const packs: Readonly<Record<string, SourcePack>> = {
  [learningPack.name]: learningPack,
  [lingoPack.name]: lingoPack,
  [shopPack.name]: shopPack,
  [coursesPack.name]: coursesPack,
  [postbookPack.name]: postbookPack,
};

export function getPack(name: string): SourcePack {
  const pack = packs[name];
  if (!pack)
    throw new TributaryError(`unknown source pack "${name}"; known packs: ${Object.keys(packs).join(', ')}`);
  return pack;
}
