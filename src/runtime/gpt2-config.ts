// The GPT-2 hyper-parameters the runtime needs, read from (and written as) a Hugging Face
// GPT2Config `config.json`, so tiny models and real gpt2/distilgpt2 exports share one path.
import { ModelLoadError } from './runtime-errors.js';

export interface Gpt2Config {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** Context length (HF `n_positions`). */
  nPositions: number;
  vocabSize: number;
  layerNormEpsilon: number;
  bosTokenId: number;
  eosTokenId: number;
}

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_END_OF_TEXT = 50256;

export const TINY_GPT2_CONFIG: Gpt2Config = {
  nLayer: 2,
  nHead: 4,
  nEmbd: 64,
  nPositions: 128,
  vocabSize: GPT2_VOCAB_SIZE,
  layerNormEpsilon: 1e-5,
  bosTokenId: GPT2_END_OF_TEXT,
  eosTokenId: GPT2_END_OF_TEXT,
};

export function headDim(config: Gpt2Config): number {
  return config.nEmbd / config.nHead;
}

function positiveInt(json: Record<string, unknown>, key: string, fallback?: unknown): number {
  const value = json[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ModelLoadError(`config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates a parsed config.json; only GPT-2 architectures with the GPT-2 BPE vocabulary load. */
export function parseGpt2Config(json: unknown): Gpt2Config {
  if (typeof json !== 'object' || json === null) throw new ModelLoadError('config.json is not a JSON object');
  const c = json as Record<string, unknown>;
  if (c.model_type !== 'gpt2') throw new ModelLoadError(`config.json: model_type must be "gpt2", got ${JSON.stringify(c.model_type)}`);
  const config: Gpt2Config = {
    nLayer: positiveInt(c, 'n_layer'),
    nHead: positiveInt(c, 'n_head'),
    nEmbd: positiveInt(c, 'n_embd'),
    nPositions: positiveInt(c, 'n_positions', c.n_ctx),
    vocabSize: positiveInt(c, 'vocab_size'),
    layerNormEpsilon: typeof c.layer_norm_epsilon === 'number' ? c.layer_norm_epsilon : 1e-5,
    bosTokenId: typeof c.bos_token_id === 'number' ? c.bos_token_id : GPT2_END_OF_TEXT,
    eosTokenId: typeof c.eos_token_id === 'number' ? c.eos_token_id : GPT2_END_OF_TEXT,
  };
  if (config.nEmbd % config.nHead !== 0) throw new ModelLoadError('config.json: n_embd must be a multiple of n_head');
  // The runtime tokenizes with the GPT-2 BPE (js-tiktoken 'gpt2'); another vocabulary would decode garbage.
  if (config.vocabSize !== GPT2_VOCAB_SIZE) {
    throw new ModelLoadError(`config.json: vocab_size ${config.vocabSize} is not the GPT-2 BPE vocabulary (${GPT2_VOCAB_SIZE})`);
  }
  const activation = c.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new') throw new ModelLoadError(`config.json: activation_function ${JSON.stringify(activation)} is not supported`);
  return config;
}

/** The config.json a Hugging Face GPT2LMHeadModel export carries for these hyper-parameters. */
export function toHfConfigJson(config: Gpt2Config, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: config.bosTokenId,
    embd_pdrop: 0.1,
    eos_token_id: config.eosTokenId,
    initializer_range: 0.02,
    layer_norm_epsilon: config.layerNormEpsilon,
    model_type: 'gpt2',
    n_ctx: config.nPositions,
    n_embd: config.nEmbd,
    n_head: config.nHead,
    n_inner: null,
    n_layer: config.nLayer,
    n_positions: config.nPositions,
    reorder_and_upcast_attn: false,
    resid_pdrop: 0.1,
    scale_attn_by_inverse_layer_idx: false,
    scale_attn_weights: true,
    summary_activation: null,
    summary_first_dropout: 0.1,
    summary_proj_to_labels: true,
    summary_type: 'cls_index',
    summary_use_proj: true,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    transformers_version: '4.46.3',
    use_cache: true,
    vocab_size: config.vocabSize,
    ...extra,
  };
}
