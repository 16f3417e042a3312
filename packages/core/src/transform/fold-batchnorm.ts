import { create } from '@bufbuild/protobuf';
import { type NodeProto, NodeProtoSchema, type TensorProto, TensorProto_DataType } from 'onnx-buf';
import type { Model } from '../model/model.js';
import { makeAttribute, makeTensor } from '../onnx/factory.js';
import { overwriteWeights, pruneOrphans, readNames } from '../onnx/graph-edit.js';
import { tensorToFloat32 } from '../onnx/tensor-values.js';

/** A BatchNormalization folded into the layer before it. */
export interface FoldedBatchNorm {
  /** Stable name of the Conv, ConvTranspose or Gemm that absorbed it. */
  readonly layer: string;
  /** Stable name of the BatchNormalization that disappeared. */
  readonly batchNorm: string;
}

/**
 * Folds inference-mode BatchNormalization into a preceding Conv, ConvTranspose (group 1) or Gemm,
 * as AIMET does before simulation: `w' = w·γ/√(σ²+ε)` along the output-channel axis and
 * `b' = (b − μ)·γ/√(σ²+ε) + β`. The layer then writes the BatchNormalization's output tensor, so
 * downstream names do not change. Folds only where it is exact: the layer's output feeds nothing
 * else, weights and BN parameters are float32 constants, and the weight is not shared.
 *
 * @returns a new model (the input is not modified) and the folds made.
 */
export function foldBatchNorms(model: Model): { model: Model; folded: FoldedBatchNorm[] } {
  const out = model.clone();
  const graph = out.proto.graph;
  if (!graph) return { model: out, folded: [] };
  const view = model.graph;
  const folded: FoldedBatchNorm[] = [];
  const removed = new Set<NodeProto>();
  const newConstants: NodeProto[] = [];
  const readBefore = readNames(graph);
  const consumerCount = (t: string) => view.tensor(t)?.consumers.length ?? 0;

  for (const bnView of view.nodes) {
    if (bnView.opType !== 'BatchNormalization' || bnView.domain !== '') continue;
    if (bnView.outputs.filter((o) => o !== '').length !== 1) continue;
    if (bnView.attributes.some((a) => a.name === 'training_mode' && a.i !== 0n)) continue;
    const x = bnView.inputs[0];
    const producer = x ? view.tensor(x)?.producer : undefined;
    if (!x || !producer || producer.domain !== '') continue;
    if (!['Conv', 'ConvTranspose', 'Gemm'].includes(producer.opType)) continue;
    if (consumerCount(x) !== 1 || view.tensor(x)?.isGraphOutput) continue;
    const group = producer.attributes.find((a) => a.name === 'group');
    if (producer.opType === 'ConvTranspose' && group && group.i !== 1n) continue;
    if (producer.opType === 'Gemm' && producer.attributes.some((a) => a.name === 'transA' && a.i !== 0n)) continue;
    const wName = producer.inputs[1];
    const bName = producer.inputs[2];
    if (!wName || consumerCount(wName) !== 1 || (bName && consumerCount(bName) !== 1)) continue;
    const wTensor = out.constantTensor(wName);
    const bTensor = bName ? out.constantTensor(bName) : undefined;
    const bnTensors = [1, 2, 3, 4].map((i) => {
      const n = bnView.inputs[i];
      return n ? out.constantTensor(n) : undefined;
    });
    if (!wTensor || wTensor.dataType !== TensorProto_DataType.FLOAT || (bName && !bTensor)) continue;
    if (bnTensors.some((t) => !t)) continue;
    const [gamma, beta, mean, variance] = bnTensors.map((t) =>
      tensorToFloat32(t as TensorProto, (tp) => out.externalBytes(tp) ?? new Uint8Array()),
    );
    const epsAttr = bnView.attributes.find((a) => a.name === 'epsilon');
    const eps = epsAttr ? epsAttr.f : 1e-5;
    const w = tensorToFloat32(wTensor, (tp) => out.externalBytes(tp) ?? new Uint8Array());
    const dims = wTensor.dims.map(Number);
    const transB = producer.attributes.some((a) => a.name === 'transB' && a.i !== 0n);
    const axis = producer.opType === 'Conv' ? 0 : producer.opType === 'ConvTranspose' ? 1 : transB ? 0 : 1;
    const channels = dims[axis] ?? 0;
    if (!gamma || !beta || !mean || !variance || gamma.length !== channels) continue;
    const scale = new Float32Array(channels);
    for (let c = 0; c < channels; c++) scale[c] = (gamma[c] as number) / Math.sqrt((variance[c] as number) + eps);
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < w.length; i++) {
      const c = Math.floor(i / inner) % channels;
      w[i] = (w[i] as number) * (scale[c] as number);
    }
    const b = bTensor ? tensorToFloat32(bTensor, (tp) => out.externalBytes(tp) ?? new Uint8Array()) : new Float32Array(channels);
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++)
      newBias[c] = ((b[c] as number) - (mean[c] as number)) * (scale[c] as number) + (beta[c] as number);
    // The clone shares no objects with `model`: find the same nodes in it by position.
    const layerInClone = graph.node[model.proto.graph?.node.indexOf(producer.proto) ?? -1];
    const bnInClone = graph.node[model.proto.graph?.node.indexOf(bnView.proto) ?? -1];
    if (!layerInClone || !bnInClone) continue;
    overwriteWeights(wTensor, w);
    if (bTensor) overwriteWeights(bTensor, newBias);
    else {
      const biasName = `${producer.name}.bias_folded`;
      newConstants.push(
        create(NodeProtoSchema, {
          opType: 'Constant',
          output: [biasName],
          attribute: [makeAttribute('value', makeTensor(biasName, 'float32', [channels], newBias))],
        }),
      );
      while (layerInClone.input.length < 2) layerInClone.input.push('');
      layerInClone.input[2] = biasName;
    }
    layerInClone.output[0] = bnView.outputs.find((o) => o !== '') as string;
    removed.add(bnInClone);
    folded.push({ layer: producer.name, batchNorm: bnView.name });
  }
  graph.node = [...newConstants, ...graph.node.filter((n) => !removed.has(n))];
  // The folded BatchNorms' parameters are read by nothing now: drop their constants, so that
  // the folded model carries no dead weights (and ONNX Runtime does not warn about them).
  pruneOrphans(graph, readBefore);
  return { model: out, folded };
}
