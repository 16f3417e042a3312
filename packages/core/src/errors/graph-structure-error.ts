import { QuantsimError } from './quantsim-error.js';

/**
 * An ONNX graph is not well formed: a tensor produced twice, an input nothing defines, a node
 * that reads its own output, or a cycle. The loader turns it into a {@link ModelLoadError} naming the file.
 */
export class GraphStructureError extends QuantsimError {
  /** What is wrong, without the hint. */
  readonly reason: string;

  constructor(message: string) {
    super('GRAPH_STRUCTURE', message, {
      hint: 'Check the model with onnx.checker.check_model, or export it again from its framework.',
    });
    this.reason = message;
  }
}
