/** The role a parameter plays in the op that reads it. */
export type ParamRole = 'weight' | 'bias' | 'scale' | 'mean' | 'variance' | 'recurrence' | 'slope';

/** Where a quantizer sits: on an op's output, on a parameter, or on a layer's input. */
export type QuantizerKind = 'activation' | 'param' | 'input';

/** The settings of a quantizer that the builder can change; each records which call set it. */
export type QuantizerField =
  | 'bitwidth'
  | 'dtype'
  | 'symmetric'
  | 'strictSymmetric'
  | 'unsignedSymmetric'
  | 'scheme'
  | 'schemeOptions'
  | 'perChannelAxis'
  | 'enabled';

/** What an encoding grid depends on: the part of a quantizer that schemes read. */
export interface GridSpec {
  readonly bitwidth: number;
  readonly dtype: 'int' | 'float';
  readonly symmetric: boolean;
  readonly strictSymmetric: boolean;
  readonly unsignedSymmetric: boolean;
  readonly schemeOptions: Readonly<Record<string, unknown>>;
}

/** One row of the quantization plan: a quantizer and its resolved settings. */
export interface QuantizerSpec extends GridSpec {
  /** Stable id: `<kind>:<tensor>` (inputs: `input:<layer>:<index>`). */
  readonly id: string;
  /** The tensor it quantizes. */
  readonly tensor: string;
  /** The layer it belongs to: the producer (activation), the consumer (param, input). */
  readonly layer: string | undefined;
  readonly kind: QuantizerKind;
  /** For params: weight, bias… */
  readonly paramRole?: ParamRole;
  /** For input quantizers: which input of the layer. */
  readonly inputIndex?: number;
  /** For activations that end a supergroup (Conv+Relu…): every layer of the group. */
  readonly supergroup?: readonly string[];
  /**
   * For quantizers inside an If branch: the branch's path (`<If node>/then_branch`, nested
   * branches prefixed by their owners). Absent in the main graph.
   */
  readonly scope?: string;
  readonly scheme: string;
  /** The channel axis for per-channel quantization; `undefined` for per-tensor. */
  readonly perChannelAxis: number | undefined;
  readonly enabled: boolean;
  /** For each field, the call that set it (`defaults`, `config`, `.layers(/fc/).params(16)`…). */
  readonly provenance: Readonly<Partial<Record<QuantizerField, string>>>;
  /** Post-training steps that change this quantizer's tensor or encoding (`.equalize()`, `.seqMse()`, `.biasCorrection()`). */
  readonly steps?: readonly string[];
}
