export function postbookMapping(source: string): never { throw new Error(source); }
