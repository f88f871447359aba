/**
 * x87 rows (escape opcodes D8..DF).
 */
import { type Setter } from './table-defs.js';

export function defineX87(set: Setter): void {
  void set;
}
