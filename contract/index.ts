/** The contract: names and shapes on the wire, below everything that runs. */
export * from './audit';
export * from './messages';
export * from './mission';
export * from './names';
export * from './search-attributes';
