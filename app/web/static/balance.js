// Balance dashboard (#panel-balance): to be built.
export function initBalance() {}
