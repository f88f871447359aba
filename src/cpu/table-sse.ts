/**
 * MMX, SSE .. SSE4.2 rows of the 0F, 0F 38 and 0F 3A maps.
 */
import { type Setter } from './table-defs.js';

export function defineSse(set: Setter): void {
  void set;
}
