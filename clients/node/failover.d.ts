// Types of ./failover.js: the same declarations as the package root (index.d.ts), re-exported.
export {
  NODE_STATUSES,
  SAFE_TO_REPEAT,
  isSafeToRepeat,
  movesToAnotherNode,
  parseNodes,
  NodeAddress,
} from './index.js';
