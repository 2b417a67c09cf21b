export * from './safetensors.js';
export * from './hf-config.js';
export {
  HfCheckpointError,
  expectedLlamaTensors,
  loadHfCheckpoint,
  saveHfCheckpoint,
  validateLlamaTensors,
  type HfCheckpoint,
  type HfTensor,
  type SaveHfCheckpointOptions,
} from './hf-dir.js';
