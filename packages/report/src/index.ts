export * from './format.js';
export * from './flame-data.js';
export * from './report-data.js';
export * from './report-html.js';
export * from './write-report.js';
