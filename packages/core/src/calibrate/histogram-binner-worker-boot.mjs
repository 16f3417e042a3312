// Entry of the binning thread when quantsim runs from its TypeScript sources (tests, tsx):
// worker threads ignore `--import` loaders, so register tsx here, then load the worker.
const { register } = await import('tsx/esm/api');
register();
await import(new URL('./histogram-binner-worker.ts', import.meta.url).href);
