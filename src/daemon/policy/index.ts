export { PolicyEngine, NO_MATCH_REASON, type PolicyDecision, type PolicyExplanation, type RuleTrace } from './engine.js';
export { matchGlob, compileGlob, hasControlChar, isGlob } from '../../common/glob.js';
export { approverAllowed } from './approvers.js';
export { formatExplanation, describeDecision } from './explain.js';
export { contextFromJson } from './context-json.js';
