/** Redline's version, recorded in every result. */
export const REDLINE_VERSION = '0.1.0';
