// Investor matching (#panel-match): to be built.
export function initMatching() {}
