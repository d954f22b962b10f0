// Global test setup: kept small on purpose; per-suite helpers live beside it.
export {};
