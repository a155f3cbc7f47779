// The catalog seam: the data dictionary read from a warehouse, and its Markdown and HTML forms.
export { kindOf, readDataDictionary, TABLE_KINDS } from './dictionary.ts';
export type { DataDictionary, DictionaryOptions, DictionaryTable, TableKind } from './dictionary.ts';
export { renderHtml, renderMarkdown } from './render.ts';
