export * from './levenberg-marquardt.js';
export * from './usl.js';
export * from './usl-predict.js';
export * from './slo.js';
export * from './usl-csv.js';
export * from './fit-command.js';
export * from './knee.js';
export * from './search.js';
