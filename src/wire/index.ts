/**
 * wire: the packets that cross process boundaries, their MessagePack encoding, openpi's
 * n-d array convention and strict validation. The link layer imports only this module, so the
 * contract's InputError and sha256Hex are re-exported here.
 */
export { InputError, readTextFile, sha256Hex } from '../contract/index.js';
export * from './clock.js';
export { decodePacket, encodePacket } from './codec.js';
export { WIRE_ERROR_CODES, WireError, type WireErrorCode } from './errors.js';
export { DEFAULT_WIRE_LIMITS, resolveWireLimits, type WireLimits } from './limits.js';
export {
  DTYPES,
  type Dtype,
  type DtypeArrays,
  dtypeOf,
  NDARRAY_KEYS,
  type NdarrayMap,
  type NdTypedArray,
  readNdarray,
  toNdarray,
} from './ndarray.js';
export * from './packets.js';
export {
  FRAME_CHANNELS,
  MAX_FRAME_SIDE,
  MAX_ID_LENGTH,
  MAX_INSTRUCTION_LENGTH,
  MAX_TIMINGS,
  PACKET_KEYS,
  TIMING_KEY,
} from './validate.js';
