// Entry of evaluation threads when quantsim runs from its TypeScript sources (tests, tsx):
// worker threads ignore `--import` loaders, so register tsx here, then load the worker.
const { register } = await import('tsx/esm/api');
register();
const worker = await import(new URL('./switchable-worker.ts', import.meta.url).href);
export default worker.default;
