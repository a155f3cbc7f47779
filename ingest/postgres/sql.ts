// Quoting for identifiers that come from catalogs and user input.
import pg from 'pg';

export const quoteIdentifier = (name: string): string => pg.escapeIdentifier(name);
