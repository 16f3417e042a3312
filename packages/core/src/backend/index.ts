// Backend registry, DI tokens and selection: filled in by the backends work.
export {};
