export * from './format.js';
export * from './flame-data.js';
export * from './report-data.js';
export * from './report-html.js';
export * from './write-report.js';
export * from './compare.js';
export * from './compare-table.js';
export * from './compare-html.js';
