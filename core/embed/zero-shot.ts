/**
 * Zero-shot classification with a CLIP model: an image belongs to the label whose text embedding is
 * nearest. Scores are cosines; probabilities are CLIP's softmax over the cosines times its logit scale
 * (100 for the OpenAI and open_clip models).
 */
export const CLIP_LOGIT_SCALE = 100;

export interface LabelScore {
  label: string;
  /** Position of the label in the list given. */
  index: number;
  /** Cosine similarity of image and label, -1..1. */
  similarity: number;
  /** Softmax over all labels of CLIP_LOGIT_SCALE × similarity; sums to 1. */
  probability: number;
}

/** Rank `labels` (with their unit text vectors) against a unit image vector; best first, ties by index. */
export function rankLabels(image: Float32Array, labels: string[], vectors: Float32Array[]): LabelScore[] {
  const sims = vectors.map((v) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * image[i];
    return s;
  });
  const max = Math.max(...sims);
  const exps = sims.map((s) => Math.exp(CLIP_LOGIT_SCALE * (s - max)));
  const total = exps.reduce((a, b) => a + b, 0);
  return labels
    .map((label, index) => ({ label, index, similarity: sims[index], probability: exps[index] / total }))
    .sort((a, b) => b.similarity - a.similarity || a.index - b.index);
}
